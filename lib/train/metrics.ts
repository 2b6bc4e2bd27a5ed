/**
 * Classification metrics as the lecture calls them from sklearn: accuracy, precision / recall / F1 with
 * support, `classificationReport` printed exactly as sklearn prints it, the confusion matrix and its heatmap.
 * Labels are class indices (Int32Array or number[]). Zero division behaves like sklearn's default
 * (`zero_division="warn"`): the value is 0 and an `UndefinedMetricWarning` is emitted.
 */
import type { DataFrame } from 'danfojs-node';
import { danfo } from '../data/frame';
import { formatFixed, padLeft } from './pyformat';

/** Class indices: one per sample. */
export type Labels = ArrayLike<number>;

/** How averages are taken: like sklearn's `average=` (null: one value per class). */
export type Average = 'macro' | 'weighted' | 'micro' | null;

/** What a zero division (0/0) becomes: sklearn's 'warn' (0 and a warning), 0 or 1 silently. */
export type ZeroDivision = 'warn' | 0 | 1;

export interface MetricOptions {
  /** Classes to report, in order; default: the sorted classes present in yTrue or yPred. */
  labels?: number[];
  /** Shorthand for labels = 0..numClasses-1 (classes absent from both vectors still get a row). */
  numClasses?: number;
  zeroDivision?: ZeroDivision;
}

/** Per-class precision, recall, F1 and support (the number of true samples of each class). */
export interface PerClassScores {
  labels: number[];
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
}

/** Averaged precision, recall and F1 (support is null, as in sklearn). */
export interface AveragedScores {
  precision: number;
  recall: number;
  f1: number;
  support: null;
}

function checkPair(yTrue: Labels, yPred: Labels, where: string): void {
  if (yTrue.length !== yPred.length) {
    throw new Error(`${where}: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}; expected equal lengths`);
  }
  for (const [name, y] of [['yTrue', yTrue], ['yPred', yPred]] as const) {
    for (let i = 0; i < y.length; i++) {
      if (!Number.isInteger(y[i]) || y[i] < 0) {
        throw new Error(`${where}: ${name}[${i}] = ${y[i]}; expected a non-negative integer class index`);
      }
    }
  }
}

/** The classes to report: given labels, 0..numClasses-1, or the sorted union of both vectors (sklearn's unique_labels). */
export function resolveLabels(yTrue: Labels, yPred: Labels, opts: MetricOptions = {}): number[] {
  if (opts.labels) return [...opts.labels];
  if (opts.numClasses !== undefined) return Array.from({ length: opts.numClasses }, (_, i) => i);
  const seen = new Set<number>();
  for (let i = 0; i < yTrue.length; i++) seen.add(yTrue[i]);
  for (let i = 0; i < yPred.length; i++) seen.add(yPred[i]);
  return [...seen].sort((a, b) => a - b);
}

/** Fraction of samples whose predicted class equals the true class. */
export function accuracy(yTrue: Labels, yPred: Labels): number {
  checkPair(yTrue, yPred, 'accuracy');
  if (yTrue.length === 0) return 0;
  let right = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) right++;
  return right / yTrue.length;
}

/** Confusion matrix C with C[i][j] = number of samples of true class i predicted as class j (sklearn's layout). */
export function confusionMatrix(yTrue: Labels, yPred: Labels, numClasses?: number): number[][] {
  checkPair(yTrue, yPred, 'confusionMatrix');
  const labels = resolveLabels(yTrue, yPred, numClasses === undefined ? {} : { numClasses });
  const index = new Map(labels.map((l, i) => [l, i]));
  const cm = labels.map(() => new Array<number>(labels.length).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t === undefined || p === undefined) {
      throw new Error(`confusionMatrix: label ${t === undefined ? yTrue[i] : yPred[i]} at ${i} is >= numClasses ${numClasses}`);
    }
    cm[t][p]++;
  }
  return cm;
}

const warnedOnce = new Set<string>();
/** Emits sklearn's UndefinedMetricWarning text (once per message and process, like Python's default filter). */
function warnUndefined(message: string): void {
  if (warnedOnce.has(message)) return;
  warnedOnce.add(message);
  process.emitWarning(message, { type: 'UndefinedMetricWarning' });
}

/** Forget which warnings were shown (tests use it to see a warning again). */
export function resetMetricWarnings(): void {
  warnedOnce.clear();
}

type WarnFor = Array<'precision' | 'recall' | 'f-score'>;

function divide(
  num: number[],
  den: number[],
  metric: 'precision' | 'recall',
  modifier: 'predicted' | 'true',
  zeroDivision: ZeroDivision,
  warnFor: WarnFor,
  resultSize: number,
): number[] {
  let undefinedAny = false;
  const out = num.map((n, i) => {
    if (den[i] === 0) {
      undefinedAny = true;
      return zeroDivision === 1 ? 1 : 0;
    }
    return n / den[i];
  });
  if (undefinedAny && zeroDivision === 'warn') {
    const title = metric === 'precision' ? 'Precision' : 'Recall';
    let start: string | null = null;
    if (warnFor.includes(metric) && warnFor.includes('f-score')) start = `${title} and F-score are`;
    else if (warnFor.includes(metric)) start = `${title} is`;
    else if (warnFor.includes('f-score')) start = 'F-score is';
    if (start) {
      const where = resultSize === 1 ? 'due to' : 'in labels with';
      warnUndefined(
        `${start} ill-defined and being set to 0.0 ${where} no ${modifier} samples. Use \`zero_division\` parameter to control this behavior.`,
      );
    }
  }
  return out;
}

/**
 * Precision, recall, F1 and support like sklearn's `precision_recall_fscore_support`: per class when
 * `average` is null (the default), else one macro / weighted / micro average.
 */
export function precisionRecallF1Support(
  yTrue: Labels,
  yPred: Labels,
  opts?: MetricOptions & { average?: null; warnFor?: WarnFor },
): PerClassScores;
export function precisionRecallF1Support(
  yTrue: Labels,
  yPred: Labels,
  opts: MetricOptions & { average: 'macro' | 'weighted' | 'micro'; warnFor?: WarnFor },
): AveragedScores;
export function precisionRecallF1Support(
  yTrue: Labels,
  yPred: Labels,
  opts: MetricOptions & { average?: Average; warnFor?: WarnFor } = {},
): PerClassScores | AveragedScores {
  checkPair(yTrue, yPred, 'precisionRecallF1Support');
  const average = opts.average ?? null;
  const zeroDivision = opts.zeroDivision ?? 'warn';
  const warnFor: WarnFor = opts.warnFor ?? ['precision', 'recall', 'f-score'];
  const labels = resolveLabels(yTrue, yPred, opts);
  const index = new Map(labels.map((l, i) => [l, i]));
  let tp = new Array<number>(labels.length).fill(0);
  let predSum = new Array<number>(labels.length).fill(0);
  let trueSum = new Array<number>(labels.length).fill(0);
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t !== undefined) trueSum[t]++;
    if (p !== undefined) predSum[p]++;
    if (t !== undefined && t === p) tp[t]++;
  }
  const support = [...trueSum];
  if (average === 'micro') {
    const total = (a: number[]) => [a.reduce((s, v) => s + v, 0)];
    tp = total(tp);
    predSum = total(predSum);
    trueSum = total(trueSum);
  }
  const size = tp.length;
  const precision = divide(tp, predSum, 'precision', 'predicted', zeroDivision, warnFor, size);
  const recall = divide(tp, trueSum, 'recall', 'true', zeroDivision, warnFor, size);
  if (zeroDivision === 'warn' && warnFor.length === 1 && warnFor[0] === 'f-score') {
    if (trueSum.some((t, i) => t === 0 && predSum[i] === 0)) {
      const where = size === 1 ? 'due to' : 'in labels with';
      warnUndefined(
        `F-score is ill-defined and being set to 0.0 ${where} no true nor predicted samples. Use \`zero_division\` parameter to control this behavior.`,
      );
    }
  }
  const f1 = precision.map((p, i) => {
    const denom = p + recall[i];
    return denom === 0 ? 0 : (2 * p * recall[i]) / denom;
  });
  if (average === null) return { labels, precision, recall, f1, support };
  if (average === 'weighted') {
    const totalSupport = support.reduce((s, v) => s + v, 0);
    if (totalSupport === 0) {
      const z = zeroDivision === 1 ? 1 : 0;
      const noPredictions = predSum.reduce((s, v) => s + v, 0) === 0;
      return noPredictions
        ? { precision: z, recall: z, f1: z, support: null }
        : { precision: 0, recall: z, f1: 0, support: null };
    }
    const weighted = (a: number[]) => a.reduce((s, v, i) => s + v * support[i], 0) / totalSupport;
    return { precision: weighted(precision), recall: weighted(recall), f1: weighted(f1), support: null };
  }
  const mean = (a: number[]) => (a.length === 0 ? 0 : a.reduce((s, v) => s + v, 0) / a.length);
  return { precision: mean(precision), recall: mean(recall), f1: mean(f1), support: null };
}

/** F1 score like sklearn's `f1_score`: 'macro' (default), 'weighted', 'micro', or null for one value per class. */
// The per-class overload comes first: tslab compiles without strictNullChecks, where `null` also fits the other one.
export function f1Score(yTrue: Labels, yPred: Labels, opts: MetricOptions & { average: null }): number[];
export function f1Score(yTrue: Labels, yPred: Labels, opts?: MetricOptions & { average?: 'macro' | 'weighted' | 'micro' }): number;
export function f1Score(yTrue: Labels, yPred: Labels, opts: MetricOptions & { average?: Average } = {}): number | number[] {
  const average = opts.average === undefined ? 'macro' : opts.average;
  const warnFor: WarnFor = ['f-score'];
  if (average === null) return precisionRecallF1Support(yTrue, yPred, { ...opts, average: null, warnFor }).f1;
  return precisionRecallF1Support(yTrue, yPred, { ...opts, average, warnFor }).f1;
}

/** One row of a classification report (per class, or 'accuracy' / 'macro avg' / 'weighted avg'). */
export interface ReportRow {
  name: string;
  /** NaN on the accuracy row (sklearn leaves those cells blank). */
  precision: number;
  recall: number;
  f1Score: number;
  support: number;
}

export interface ClassificationReport {
  /** The report formatted exactly as sklearn's `classification_report` prints it. */
  text: string;
  /** The same numbers as a danfo DataFrame (index: class names and average rows). */
  frame: DataFrame;
  rows: ReportRow[];
  toString(): string;
}

/**
 * Per-class precision, recall, F1 and support plus accuracy / macro avg / weighted avg, as sklearn's
 * `classification_report(y_true, y_pred, target_names=..., digits=...)`: `.text` prints identically,
 * `.frame` is a DataFrame.
 */
export function classificationReport(
  yTrue: Labels,
  yPred: Labels,
  opts: MetricOptions & { targetNames?: string[]; digits?: number } = {},
): ClassificationReport {
  const digits = opts.digits ?? 2;
  const labels = resolveLabels(yTrue, yPred, opts);
  const perClass = precisionRecallF1Support(yTrue, yPred, { ...opts, labels, average: null });
  const names = opts.targetNames ?? labels.map(String);
  if (names.length !== labels.length) {
    throw new Error(
      `classificationReport: ${names.length} targetNames for ${labels.length} labels (${labels.join(', ')}); expected one name per label`,
    );
  }
  const rows: ReportRow[] = labels.map((_, i) => ({
    name: names[i],
    precision: perClass.precision[i],
    recall: perClass.recall[i],
    f1Score: perClass.f1[i],
    support: perClass.support[i],
  }));
  const total = perClass.support.reduce((s, v) => s + v, 0);
  // sklearn prints the micro average as "accuracy" when every present label is reported (single-label data).
  const present = resolveLabels(yTrue, yPred);
  const microIsAccuracy = present.every((l) => labels.includes(l));
  const avgRows: ReportRow[] = [];
  for (const average of ['micro', 'macro', 'weighted'] as const) {
    const avg = precisionRecallF1Support(yTrue, yPred, { ...opts, labels, average });
    if (average === 'micro' && microIsAccuracy) {
      avgRows.push({ name: 'accuracy', precision: NaN, recall: NaN, f1Score: avg.f1, support: total });
    } else {
      avgRows.push({ name: `${average} avg`, precision: avg.precision, recall: avg.recall, f1Score: avg.f1, support: total });
    }
  }
  const width = Math.max(...names.map((n) => n.length), 'weighted avg'.length, digits);
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  let text = padLeft('', width) + ' ' + headers.map((h) => ' ' + padLeft(h, 9)).join('') + '\n\n';
  const line = (r: ReportRow) =>
    padLeft(r.name, width) +
    ' ' +
    [r.precision, r.recall, r.f1Score].map((v) => ' ' + padLeft(formatFixed(v, digits), 9)).join('') +
    ' ' +
    padLeft(String(r.support), 9) +
    '\n';
  for (const r of rows) text += line(r);
  text += '\n';
  for (const r of avgRows) {
    if (r.name === 'accuracy') {
      text +=
        padLeft(r.name, width) + ' ' + ' ' + padLeft('', 9) + ' ' + padLeft('', 9) + ' ' +
        padLeft(formatFixed(r.f1Score, digits), 9) + ' ' + padLeft(String(r.support), 9) + '\n';
    } else {
      text += line(r);
    }
  }
  const allRows = [...rows, ...avgRows];
  let frameCache: DataFrame | undefined;
  return {
    text,
    rows: allRows,
    get frame(): DataFrame {
      if (!frameCache) frameCache = reportFrame(allRows);
      return frameCache;
    },
    toString: () => text,
    // A notebook cell ending with the report shows the sklearn-style text, not the object.
    [Symbol.for('nodejs.util.inspect.custom')]: () => text,
  } as ClassificationReport;
}

function reportFrame(rows: ReportRow[]): DataFrame {
  // danfo is loaded on first use: it takes a second or two to import.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const dfd = danfo();
  return new dfd.DataFrame(
    {
      precision: rows.map((r) => r.precision),
      recall: rows.map((r) => r.recall),
      'f1-score': rows.map((r) => r.f1Score),
      support: rows.map((r) => r.support),
    },
    { index: rows.map((r) => r.name) },
  );
}
