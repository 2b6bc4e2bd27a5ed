// Public API of lib/theory: the linear-representation simulation that checks the transfer risk bound.
export { randomNormalMatrix, randomOrthonormal, orthonormalColumns, topEigenvectors, symmetricEigenvalues, leastSquares, subspaceDistance } from './linalg';
export type { TargetKind, RiskMethod, RiskConfig, RiskProblem, SourceStats } from './tasks';
export { DEFAULT_RISK_CONFIG, upperPairs, sourceHeads, taskDiversity, headCovariance, makeProblem, sampleSourceStats } from './tasks';
export type { AlsResult } from './representation';
export { momentEstimator, pairwiseMomentEstimator, alternatingLeastSquares } from './representation';
export type { RiskValue, TargetSample, TransferRiskArgs, BoundArgs } from './risk';
export {
  sampleTarget,
  headExcessRisk,
  scratchExcessRisk,
  olsRisk,
  scratchRisk,
  oracleRisk,
  representationRisk,
  transferRisk,
  worstCaseTransferRisk,
  lectureBound,
  tjjBound,
  duBound,
} from './risk';
export type { SweepParam, SweepRow, Representations, SweepSummary, LogLogFit } from './sweep';
export {
  learnRepresentations,
  measureMethods,
  simulateRisk,
  riskSweep,
  sweepM,
  sweepTasks,
  sweepSamples,
  sweepDiversity,
  sweepSplit,
  checkGuess,
  summarizeSweep,
  fitLogLogSlope,
  sweepSlope,
} from './sweep';
export type { FitSpec, RiskFigureOptions } from './plots';
export { METHOD_STYLE, riskFigure } from './plots';
