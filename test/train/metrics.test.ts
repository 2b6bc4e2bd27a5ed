// Metrics against sklearn 1.2.1's own output (fixtures generated once by test/fixtures/sklearn/make_fixtures.py)
// and against hand computations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import {
  accuracy,
  classificationReport,
  confusionMatrix,
  f1Score,
  precisionRecallF1Support,
  resetMetricWarnings,
} from '../../lib/train/metrics';
import { formatFixed } from '../../lib/train/pyformat';
import { confusionMatrixFigure } from '../../lib/display/figures/confusion';

interface Case {
  y_true: number[];
  y_pred: number[];
  target_names?: string[];
  digits?: number;
  labels?: number[];
  report: string;
  report_warnings: string[];
  accuracy: number;
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
  averages: Record<'macro' | 'weighted' | 'micro', { precision: number; recall: number; f1: number }>;
  f1_macro: number;
  confusion_matrix: number[][];
}
const fixtures = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'sklearn', 'metrics.json'), 'utf8'),
) as { sklearn_version: string; cases: Record<string, Case> };

function close(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `${what}[${i}]: ${v} vs sklearn ${expected[i]}`));
}

/** Collects the UndefinedMetricWarning messages emitted while fn runs. */
function warningsDuring(fn: () => void): string[] {
  resetMetricWarnings();
  const seen: string[] = [];
  const listener = (w: Error) => {
    if (w.name === 'UndefinedMetricWarning') seen.push(w.message);
  };
  process.on('warning', listener);
  const original = process.emitWarning;
  // emitWarning delivers on the next tick; capture synchronously instead.
  process.emitWarning = ((message: string | Error, opts?: unknown) => {
    const type = typeof opts === 'object' && opts !== null ? (opts as { type?: string }).type : opts;
    if (type === 'UndefinedMetricWarning') seen.push(String(message));
    else original.call(process, message as string, opts as NodeJS.EmitWarningOptions);
  }) as typeof process.emitWarning;
  try {
    fn();
  } finally {
    process.emitWarning = original;
    process.off('warning', listener);
  }
  return [...new Set(seen)].sort();
}

for (const [name, c] of Object.entries(fixtures.cases)) {
  test(`classificationReport prints exactly as sklearn ${fixtures.sklearn_version} (${name})`, () => {
    let text = '';
    const warnings = warningsDuring(() => {
      text = classificationReport(c.y_true, c.y_pred, { targetNames: c.target_names, digits: c.digits, labels: c.labels }).text;
    });
    assert.equal(text, c.report);
    assert.deepEqual(warnings, c.report_warnings);
  });

  test(`per-class and averaged scores match sklearn (${name})`, () => {
    const per = precisionRecallF1Support(c.y_true, c.y_pred, { zeroDivision: 0, labels: c.labels });
    close(per.precision, c.precision, 'precision');
    close(per.recall, c.recall, 'recall');
    close(per.f1, c.f1, 'f1');
    assert.deepEqual(per.support, c.support);
    for (const avg of ['macro', 'weighted', 'micro'] as const) {
      const a = precisionRecallF1Support(c.y_true, c.y_pred, { average: avg, zeroDivision: 0, labels: c.labels });
      close([a.precision, a.recall, a.f1], [c.averages[avg].precision, c.averages[avg].recall, c.averages[avg].f1], avg);
    }
    close([f1Score(c.y_true, c.y_pred, { zeroDivision: 0, labels: c.labels })], [c.f1_macro], 'f1Score macro');
    close([accuracy(c.y_true, c.y_pred)], [c.accuracy], 'accuracy');
    assert.deepEqual(confusionMatrix(c.y_true, c.y_pred), c.confusion_matrix);
  });
}

test('f1Score by hand on the sklearn docstring vectors', () => {
  const yTrue = [0, 1, 2, 0, 1, 2];
  const yPred = [0, 2, 1, 0, 0, 1];
  // class 0: tp 2, fp 1, fn 0 → p 2/3, r 1, f1 0.8; classes 1 and 2: tp 0 → f1 0.
  close(f1Score(yTrue, yPred, { average: null }), [0.8, 0, 0], 'per class');
  close([f1Score(yTrue, yPred, { average: 'macro' })], [0.8 / 3], 'macro');
  close([f1Score(yTrue, yPred, { average: 'micro' })], [1 / 3], 'micro');
  close([f1Score(yTrue, yPred, { average: 'weighted' })], [0.8 / 3], 'weighted');
});

test('zero division: 0 with a warning by default, 1 when asked, silent when 0', () => {
  const yTrue = [0, 0, 1, 1];
  const yPred = [0, 0, 0, 0]; // class 1 never predicted
  let per = precisionRecallF1Support(yTrue, yPred, { zeroDivision: 0 });
  const warnings = warningsDuring(() => {
    per = precisionRecallF1Support(yTrue, yPred);
  });
  close(per.precision, [0.5, 0], 'precision');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /Precision and F-score are ill-defined and being set to 0.0 in labels with no predicted samples/);
  assert.deepEqual(warningsDuring(() => precisionRecallF1Support(yTrue, yPred, { zeroDivision: 0 })), []);
  close(precisionRecallF1Support(yTrue, yPred, { zeroDivision: 1 }).precision, [0.5, 1], 'zeroDivision 1');
  // a class absent from both vectors but requested: support 0, everything 0
  const four = precisionRecallF1Support(yTrue, yPred, { numClasses: 3, zeroDivision: 0 });
  assert.deepEqual(four.support, [2, 2, 0]);
  close(four.f1, [2 / 3, 0, 0], 'f1 with an absent class');
});

test('formatFixed rounds like Python (half to even on the exact binary value)', () => {
  // Expected strings are Python's '{:.2f}'.format(x) / '{:.1f}'.format(x).
  assert.equal(formatFixed(0.625, 2), '0.62');
  assert.equal(formatFixed(0.375, 2), '0.38');
  assert.equal(formatFixed(0.125, 2), '0.12');
  assert.equal(formatFixed(2.675, 2), '2.67'); // 2.67499999… in binary
  assert.equal(formatFixed(0.25, 1), '0.2');
  assert.equal(formatFixed(0.35, 1), '0.3'); // 0.34999…
  assert.equal(formatFixed(1, 2), '1.00');
  assert.equal(formatFixed(0, 4), '0.0000');
  assert.equal(formatFixed(123.456, 0), '123');
  assert.equal(formatFixed(0.5, 0), '0');
  assert.equal(formatFixed(1.5, 0), '2');
});

test('classificationReport frame and rows carry the same numbers', () => {
  const r = classificationReport([0, 1, 2, 2, 2], [0, 0, 2, 2, 1], { targetNames: ['a', 'b', 'c'] });
  assert.deepEqual(r.rows.map((x) => x.name), ['a', 'b', 'c', 'accuracy', 'macro avg', 'weighted avg']);
  const frame = r.frame;
  assert.deepEqual(frame.shape, [6, 4]);
  assert.deepEqual(frame.columns, ['precision', 'recall', 'f1-score', 'support']);
  close(frame['f1-score'].values as number[], r.rows.map((x) => x.f1Score), 'frame f1');
  assert.throws(() => classificationReport([0, 1], [0, 1], { targetNames: ['only one'] }), /1 targetNames for 2 labels/);
});

test('confusion matrix: layout and figure', () => {
  const cm = confusionMatrix([0, 0, 1, 2], [0, 1, 1, 0], 4);
  assert.deepEqual(cm, [
    [1, 1, 0, 0],
    [0, 1, 0, 0],
    [1, 0, 0, 0],
    [0, 0, 0, 0],
  ]);
  const fig = confusionMatrixFigure(cm, ['a', 'b', 'c', 'd']);
  assert.equal(fig.data[0].type, 'heatmap');
  assert.deepEqual(fig.data[0].z, cm);
  assert.equal((fig.layout.annotations as unknown[]).length, 16);
  assert.throws(() => confusionMatrix([0, 5], [0, 1], 3), /label 5/);
  assert.throws(() => accuracy([0, 1], [0]), /yTrue has 2 labels but yPred has 1/);
});
