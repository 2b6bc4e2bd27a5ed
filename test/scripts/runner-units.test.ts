// Unit tests of the runner's parts: wire protocol signatures, output collection, parameters, arguments, report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'crypto';
import { decodeMessage, encodeMessage, newMessage, sign } from '../../scripts/notebooks/protocol';
import { OutputCollector, Output, applyCarriageReturns, errorText, finishOutputs } from '../../scripts/notebooks/outputs';
import { injectParameters } from '../../scripts/notebooks/execute';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from '../../scripts/notebooks';
import { planOutputs, uniqueNames } from '../../scripts/notebooks/plan';
import { UsageError } from '../../scripts/lib/cli';
import { errorHeadline, summaryTable } from '../../scripts/notebooks/report';
import { Notebook, cellSource } from '../../scripts/lib/nbformat';

const msg = (type: string, content: Record<string, unknown>, parent = 'p1') => ({ ...newMessage(type, 's', content), parent_header: { msg_id: parent } });

test('messages are signed with HMAC-SHA256 over the four JSON frames, and bad signatures are refused', () => {
  const key = 'secret-key';
  const m = newMessage('execute_request', 'session-1', { code: '1+1' });
  const frames = encodeMessage(m, key);
  assert.equal(frames[0].toString(), '<IDS|MSG>');
  const expected = createHmac('sha256', key).update(frames[2]).update(frames[3]).update(frames[4]).update(frames[5]).digest('hex');
  assert.equal(frames[1].toString(), expected);
  // routing identities before the delimiter are skipped
  const back = decodeMessage([Buffer.from('identity'), ...frames], key);
  assert.deepEqual(back.content, { code: '1+1' });
  assert.equal(back.header.msg_type, 'execute_request');
  assert.throws(() => decodeMessage(frames, 'other-key'), /invalid HMAC/);
  const tampered = [...frames];
  tampered[5] = Buffer.from(JSON.stringify({ code: 'rm -rf' }));
  assert.throws(() => decodeMessage(tampered, key), /invalid HMAC/);
  assert.equal(sign('', [Buffer.from('x')]), '');
});

test('consecutive streams of the same name merge; carriage returns overwrite the line', () => {
  assert.equal(applyCarriageReturns('a\rb\n'), 'b\n');
  assert.equal(applyCarriageReturns('10%\r'), '10%\r');
  assert.equal(applyCarriageReturns('10%\r20%\r30%\ndone\n'), '30%\ndone\n');
  const c = new OutputCollector();
  const outs: Output[] = [];
  c.apply(outs, msg('stream', { name: 'stdout', text: 'epoch 1 10%\r' }));
  c.apply(outs, msg('stream', { name: 'stdout', text: 'epoch 1 50%\r' }));
  c.apply(outs, msg('stream', { name: 'stdout', text: 'epoch 1 100%\n' }));
  c.apply(outs, msg('stream', { name: 'stderr', text: 'warn\n' }));
  c.apply(outs, msg('stream', { name: 'stdout', text: 'next\r' }));
  finishOutputs(outs);
  assert.deepEqual(outs, [
    { output_type: 'stream', name: 'stdout', text: 'epoch 1 100%\n' },
    { output_type: 'stream', name: 'stderr', text: 'warn\n' },
    { output_type: 'stream', name: 'stdout', text: 'next' },
  ]);
  assert.equal(errorText(outs), 'warn\n');
});

test('update_display_data replaces every earlier output with that display_id, across cells', () => {
  const c = new OutputCollector();
  const cell1: Output[] = [];
  const cell2: Output[] = [];
  c.apply(cell1, msg('display_data', { data: { 'text/plain': 'v1' }, metadata: {}, transient: { display_id: 'd' } }));
  c.apply(cell1, msg('display_data', { data: { 'text/plain': 'other' }, metadata: {}, transient: { display_id: 'e' } }));
  c.apply(cell2, msg('display_data', { data: { 'text/plain': 'v1 again' }, metadata: {}, transient: { display_id: 'd' } }));
  assert.equal(c.apply(cell2, msg('update_display_data', { data: { 'text/plain': 'v2', 'text/html': '<b>v2</b>' }, metadata: {}, transient: { display_id: 'd' } })), true);
  assert.equal(c.apply(cell2, msg('update_display_data', { data: { 'text/plain': 'x' }, metadata: {}, transient: { display_id: 'unknown' } })), false);
  assert.deepEqual(cell1.map((o) => (o as { data: Record<string, unknown> }).data['text/plain']), ['v2', 'other']);
  assert.deepEqual(cell2, [{ output_type: 'display_data', data: { 'text/plain': 'v2', 'text/html': '<b>v2</b>' }, metadata: {} }]);
  c.apply(cell2, msg('error', { ename: 'TypeError', evalue: 'x is undefined', traceback: ['TypeError: x is undefined', '  at cell'] }));
  assert.equal(errorText(cell2), 'TypeError: x is undefined\n  at cell');
});

function nbWith(paramsSource: string): Notebook {
  return {
    nbformat: 4, nbformat_minor: 5, metadata: {},
    cells: [
      { id: 'a', cell_type: 'markdown', metadata: {}, source: '# t' },
      { id: 'b', cell_type: 'code', metadata: { tags: ['parameters'] }, source: paramsSource, outputs: [], execution_count: null },
      { id: 'c', cell_type: 'code', metadata: {}, source: 'x', outputs: [], execution_count: null },
    ],
  };
}

test('parameters are injected after the parameters cell as JSON assignments to let-declared names', () => {
  const nb = nbWith('let epochs = 3;\nlet name = "a";\nconst fixed = 1;\n');
  const warnings = injectParameters(nb, { epochs: 5, name: 'b"c', fixed: 2, missing: true });
  assert.deepEqual(nb.cells.map((c) => c.id), ['a', 'b', 'injected-parameters', 'c']);
  const injected = nb.cells[2];
  assert.deepEqual(injected.metadata.tags, ['injected-parameters']);
  assert.equal(cellSource(injected), '// Injected by the runner (--param)\n{\n  epochs = 5;\n  name = "b\\"c";\n}');
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /'fixed' is declared with const/);
  assert.match(warnings[1], /'missing' is not declared/);
  const none = nbWith('let a = 1;');
  none.cells[1].metadata = {};
  assert.match(injectParameters(none, { a: 2 })[0], /no cell tagged 'parameters'/);
  assert.equal(none.cells.length, 3);
});

test('command-line arguments: flags, repeated --param with JSON or string values, errors name the flag', () => {
  const o = parseArgs(['nb/a.ipynb', '--quick', '--timeout', '30', '--jobs=2', '--param', 'epochs=4', '--param', 'name=plain', '--param=flag=true'], '/repo');
  assert.deepEqual(o.inputs, ['nb/a.ipynb']);
  assert.equal(o.quick, true);
  assert.equal(o.cellTimeout, 30);
  assert.equal(o.jobs, 2);
  assert.deepEqual(o.params, { epochs: 4, name: 'plain', flag: true });
  assert.equal(o.outDir, '/repo/build');
  const bad: Array<[string[], RegExp]> = [
    [['--timeout', 'soon'], /--timeout expects a decimal number, got 'soon'/],
    [['--jobs', '0x2'], /--jobs expects a whole number/],
    [['--jobs', '0'], /--jobs must be ≥ 1/],
    [['--param', '1x=2'], /--param expects name=value/],
    [['--bogus'], /bogus/],
    [['--out'], /--out needs a value/],
    [['--out', '--quick'], /--out needs a value/],
  ];
  for (const [argv, re] of bad) assert.throws(() => parseArgs(argv, '/repo'), (e: unknown) => e instanceof UsageError && re.test((e as Error).message), argv.join(' '));
});

test('output names: the file name, or the relative path when two inputs share it; never over a source or into notebooks/', () => {
  assert.deepEqual(uniqueNames(['/r/notebooks/00-a.ipynb', '/r/notebooks/01-b.ipynb']), ['00-a', '01-b']);
  assert.deepEqual(uniqueNames(['/w/a/x.ipynb', '/w/b/x.ipynb', '/w/y.ipynb']), ['a__x', 'b__x', 'y']);
  assert.deepEqual(uniqueNames(['/w/a/deep/x.ipynb', '/w/b/x.ipynb']), ['a__deep__x', 'b__x']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-plan-'));
  try {
    const src = path.join(dir, 'notebooks', 'x.ipynb');
    fs.mkdirSync(path.dirname(src));
    fs.writeFileSync(src, '{}');
    const plan = planOutputs([src], path.join(dir, 'build'), '/nowhere');
    assert.deepEqual(plan, [{ file: src, name: 'x', output: path.join(dir, 'build', 'notebooks', 'x.ipynb') }]);
    assert.throws(() => planOutputs([src], dir, '/nowhere'), /would be written to .*over the source/);
    // through a symbolic link to the same folder, and through a hard link to the same file
    fs.symlinkSync(dir, path.join(dir, 'alias'));
    assert.throws(() => planOutputs([src], path.join(dir, 'alias'), '/nowhere'), /over the source/);
    fs.mkdirSync(path.join(dir, 'out', 'notebooks'), { recursive: true });
    fs.linkSync(src, path.join(dir, 'out', 'notebooks', 'x.ipynb'));
    assert.throws(() => planOutputs([src], path.join(dir, 'out'), '/nowhere'), /over the source/);
    const other = path.join(dir, 'elsewhere', 'y.ipynb');
    assert.throws(() => planOutputs([other], path.join(dir, 'kit'), path.join(dir, 'kit')), /into .*notebooks\/, where the notebook sources live/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the summary table lists status, cells, seconds and the first error line', () => {
  const t = summaryTable([
    { name: 'a', path: 'a.ipynb', output: 'o', status: 'ok', cellsRun: 3, codeCells: 3, seconds: 1.25, warnings: [] },
    { name: 'bb', path: 'b.ipynb', output: 'o', status: 'failed', cellsRun: 1, codeCells: 4, seconds: 12, warnings: [],
      failure: { cellIndex: 2, cellId: 'x', source: 's', error: '\nline one\nline two' } },
  ]);
  const lines = t.split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[2], /^a\s+ok\s+3\/3\s+1\.3$/);
  assert.match(lines[3], /^bb\s+failed\s+1\/4\s+12\.0\s+cell 2: line one$/);
});

test('the error headline picks the Error line or the TypeScript diagnostic', () => {
  assert.equal(errorHeadline("evalmachine.<anonymous>:4\n    throw new Error('boom');\n    ^\n\nError: boom\n    at fail"), 'Error: boom');
  assert.equal(errorHeadline("3:7 - Type 'string' is not assignable to type 'number'."), "3:7 - Type 'string' is not assignable to type 'number'.");
  assert.equal(errorHeadline('TypeError: x is not a function'), 'TypeError: x is not a function');
  assert.equal(errorHeadline('\nsomething odd\nmore'), 'something odd');
});
