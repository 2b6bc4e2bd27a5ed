import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logLogFigure } from '../../lib/display/figures/risk';

test('logLogFigure draws each kind of series in its own style on log axes and drops empty series', () => {
  const fig = logLogFigure(
    [
      { name: 'a, median', kind: 'median', color: '#111', x: [1, 2], y: [1, 0.5] },
      { name: 'a, predicted', kind: 'predicted', color: '#111', x: [1, 2], y: [1.1, 0.55] },
      { name: 'a, runs', kind: 'runs', color: '#111', x: [1, 1, 2], y: [0.9, 1.2, 0.4] },
      { name: 'a, fit', kind: 'fit', x: [1, 2], y: [1, 0.5] },
      { name: 'empty', kind: 'median', x: [1], y: [null] },
    ],
    { title: 'T', xTitle: 'X', yTitle: 'Y' },
  );
  const byName = Object.fromEntries(fig.data.map((d) => [(d as { name: string }).name, d as Record<string, any>]));
  assert.deepEqual(Object.keys(byName), ['a, median', 'a, predicted', 'a, runs', 'a, fit']);
  assert.equal(byName['a, median'].mode, 'lines+markers');
  assert.equal(byName['a, predicted'].line.dash, 'dash');
  assert.equal(byName['a, runs'].showlegend, false);
  assert.equal(byName['a, fit'].line.color, 'black');
  assert.equal((fig.layout.xaxis as { type: string }).type, 'log');
  assert.equal((fig.layout.yaxis as { title: { text: string } }).title.text, 'Y');
});
