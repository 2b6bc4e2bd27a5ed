// Public API of lib/theory: the linear-representation simulation that checks the transfer risk bound.
export { randomNormalMatrix, randomOrthonormal, orthonormalColumns, topEigenvectors, symmetricEigenvalues, leastSquares, subspaceDistance } from './linalg';
export type { TargetKind, RiskMethod, RiskConfig, RiskProblem, SourceStats } from './tasks';
export { DEFAULT_RISK_CONFIG, SOURCE_METHODS, sourceHeads, taskDiversity, headCovariance, headSpectrum, makeProblem, sampleSourceStats } from './tasks';
export type { AlsResult } from './representation';
export { momentEstimator, pairwiseMomentEstimator, alternatingLeastSquares } from './representation';
export type { NewtonResult, LeastSquaresResult } from './erm';
export { refineRepresentation, leastSquaresRepresentation } from './erm';
export type { RiskValue, TargetSample } from './risk';
export {
  sampleTarget,
  headExcessRisk,
  scratchExcessRisk,
  minNormExcessRisk,
  ridgeExcessRisk,
  ridgeLambda,
  olsRisk,
  scratchRisk,
  oracleRisk,
  minNormRisk,
} from './risk';
export type { SourceSizes } from './firstorder';
export { firstOrderRisk, worstCaseErmRisk } from './firstorder';
export type { BoundArgs } from './bounds';
export { lectureBound, tjjBound, duBound } from './bounds';
export type { SweepParam, SweepRow, SweepOptions, Representations } from './sweep';
export { learnRepresentations, measureMethods, simulateRisk, riskSweep } from './sweep';
export type { SweepSummary, LogLogFit, SlopeSpec, MeanSlope } from './summary';
export { summarizeSweep, summaryAt, fitLogLogSlope, sweepSlope, repetitionSlopes, predictedSlope, slopeOfMeans, claimSlope } from './summary';
export type { FitSpec, RiskFigureOptions } from './figure';
export { METHOD_STYLE, riskFigure } from './figure';
export { checkGuess } from './exercises';
