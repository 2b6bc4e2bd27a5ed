/**
 * `npm run compare -- --target VIEW|FOLDER --m N[,N…] [--seeds K|S1,S2…] [--strategies …] [--cut-sweep] [--json] …`
 *
 * Runs lib/train's compareStrategies (or cutSweep) from a terminal under the fair protocol: the same number of
 * optimisation steps for every strategy, each strategy's learning rate chosen on a validation split of the target's
 * training images, accuracy measured once on the target's test (val) images. `--json` prints one JSON object per run
 * on stdout (progress goes to stderr). Usage mistakes exit with status 2 (scripts/lib/cli.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseCommand, runCommand, UsageError, type CommandSpec, type ParsedFlags } from './lib/cli';

/** The embedded views a target may name (lib/data/target.ts's TARGET_VIEWS; repeated so --help needs no library load). */
const VIEWS = ['digits', 'digits-m', 'digits-0-4', 'digits-5-9', 'digits-m-0-4', 'digits-m-5-9'];
const SWEEP_STRATEGIES = ['scratch', 'freeze', 'finetune', 'probe'];

export const COMPARE_SPEC = {
  name: 'npm run compare --',
  summary: 'Compare transfer strategies under the fair protocol (equal steps, learning rate chosen per strategy on validation data, one test).',
  flags: {
    target: { kind: 'string', arg: 'VIEW|FOLDER', required: true, help: `an embedded view (${VIEWS.join(', ')}) or a folder with train/ and val/ class folders` },
    source: { kind: 'string', arg: 'NAME|DIR', help: 'shipped source model (default digits-m-0-4) or a model folder' },
    m: { kind: 'ints', min: 1, required: true, help: 'target images per class (one value with --cut-sweep)' },
    seeds: { kind: 'ints', min: 1, help: 'K = seeds 1..K (default 1), or a list S1,S2,…' },
    strategies: { kind: 'strings', help: 'scratch,freeze,finetune,hybrid,additional-layers (default scratch,freeze,finetune); with --cut-sweep: scratch,freeze (AnB),finetune (AnB+),probe' },
    'cut-sweep': { kind: 'boolean', help: 'Yosinski et al. 2014: AnB / AnB+ (/ probe) at each cut, scratch as the baseline' },
    cuts: { kind: 'strings', arg: 'L1,L2', help: 'layers to cut at (default: the last layer of each block)' },
    steps: { kind: 'int', min: 1, help: 'optimisation steps per run (default 150; quick 12)' },
    'min-epochs': { kind: 'number', min: 0, help: 'at least this many passes over the m images (default 10; quick 0)' },
    'batch-size': { kind: 'int', min: 1, help: 'images per step (default 32)' },
    rounds: { kind: 'int', min: 1, help: 'validation rounds per run; the best is kept (default 10; quick 3)' },
    lr: { kind: 'numbers', min: 0, help: 'learning rates tried for every strategy (default: a grid per kind of strategy)' },
    'val-per-class': { kind: 'int', min: 1, help: 'validation images per class from the target train split (default 20; quick 5)' },
    'test-per-class': { kind: 'int', min: 1, help: 'test images per class (default all; quick 20)' },
    'base-lr-scale': { kind: 'number', min: 0, help: 'learning-rate multiplier of the copied base when it trains (default finetune 0.1)' },
    'batch-norm': { kind: 'string', choices: ['train', 'frozen-stats'], help: 'trainable batch-norm layers: batch statistics (train, default) or inference mode (frozen-stats)' },
    'source-test': { kind: 'string', arg: 'VIEW', help: 'measure each trained base on the source task too (e.g. digits-m-0-4): the sourceAccuracy column' },
    'allow-single-class': { kind: 'boolean', help: 'a folder target may have one class folder' },
    'on-bad-image': { kind: 'string', choices: ['error', 'skip'], help: 'unreadable files in a folder target: stop (error, default) or leave out with a warning (skip)' },
    json: { kind: 'boolean', help: 'one JSON object per run on stdout' },
    quick: { kind: 'boolean', help: 'quick mode (KIT_QUICK=1): 12 steps, small grids, 5 validation and 20 test images per class' },
  },
  epilog: [
    'examples:',
    '  npm run compare -- --target digits-m-5-9 --m 5,10,50 --seeds 3',
    '  npm run compare -- --target digits-m-5-9 --m 10 --seeds 3 --cut-sweep --strategies scratch,freeze,finetune,probe --json',
    '  npm run compare -- --source digits-0-4 --target ./my-images --m 10 --seeds 2 --on-bad-image skip',
  ].join('\n'),
} satisfies CommandSpec;

export type CompareFlags = ParsedFlags<typeof COMPARE_SPEC>;

/** Checks what the parser cannot: strategy names, one m for a sweep, positive learning rates, the target's existence. */
export function checkCompareFlags(flags: CompareFlags, strategyNames: readonly string[]): string[] {
  const strategies = flags.strategies ?? (flags['cut-sweep'] ? ['scratch', 'freeze', 'finetune'] : ['scratch', 'freeze', 'finetune']);
  const allowed = flags['cut-sweep'] ? SWEEP_STRATEGIES : [...strategyNames, 'probe'];
  const unknown = strategies.filter((s) => !allowed.includes(s));
  if (unknown.length) throw new UsageError(`--strategies: unknown ${unknown.join(', ')}; expected some of ${allowed.join(', ')}`);
  if (flags['cut-sweep'] && flags.m!.length !== 1) throw new UsageError(`--cut-sweep takes one --m value, got ${flags.m!.join(',')}`);
  if (!flags['cut-sweep'] && flags.cuts) throw new UsageError('--cuts needs --cut-sweep');
  if (flags.lr?.some((x) => !(x > 0))) throw new UsageError(`--lr expects positive numbers, got ${flags.lr.join(',')}`);
  if (!VIEWS.includes(flags.target!)) {
    const root = path.resolve(flags.target!);
    if (!fs.existsSync(path.join(root, 'train')) || !fs.existsSync(path.join(root, 'val'))) {
      throw new UsageError(`--target '${flags.target}' is neither an embedded view (${VIEWS.join(', ')}) nor a folder with train/ and val/ inside (looked in ${root})`);
    }
  }
  return strategies;
}

/** Parses a compare command line (throws UsageError on a mistake); for tests and scripts. */
export function parseCompareArgs(argv: string[]): CompareFlags {
  return parseCommand(COMPARE_SPEC, argv).flags;
}

function seedsOf(seeds: number[] | undefined): number | number[] {
  if (!seeds) return 1;
  return seeds.length === 1 ? seeds[0] : [...new Set(seeds)];
}

async function main(flags: CompareFlags): Promise<void> {
  // Quick mode must be set before the library reads KIT_QUICK.
  if (flags.quick) process.env.KIT_QUICK = '1';
  const { STRATEGIES } = await import('../lib/models');
  const strategies = checkCompareFlags(flags, STRATEGIES);
  const { initBackend } = await import('../lib/backend');
  const { compareStrategies, cutSweep } = await import('../lib/train');
  type Row = Awaited<ReturnType<typeof compareStrategies>>['rows'][number];
  const info = await initBackend();
  const log = (msg: string) => process.stderr.write(msg + '\n');
  const seeds = seedsOf(flags.seeds);
  log(`compare: ${flags.source ?? 'digits-m-0-4'} → ${flags.target}, ${flags['cut-sweep'] ? 'cut sweep, ' : ''}strategies ${strategies.join(', ')}, m ${flags.m!.join(', ')}, seeds ${Array.isArray(seeds) ? seeds.join(',') : `1..${seeds}`}, backend ${info.backend}${flags.quick ? ', quick' : ''}`);
  const started = performance.now();
  const common = {
    source: flags.source,
    target: flags.target!,
    seeds,
    strategies: strategies as Row['strategy'][],
    budget: { steps: flags.steps, minEpochs: flags['min-epochs'], batchSize: flags['batch-size'], rounds: flags.rounds },
    ...(flags.lr ? { lrGrid: flags.lr } : {}),
    ...(flags['val-per-class'] ? { valPerClass: flags['val-per-class'] } : {}),
    ...(flags['test-per-class'] ? { testPerClass: flags['test-per-class'] } : {}),
    ...(flags['base-lr-scale'] !== undefined ? { baseLrScale: flags['base-lr-scale'] } : {}),
    ...(flags['batch-norm'] ? { batchNorm: flags['batch-norm'] as 'train' | 'frozen-stats' } : {}),
    ...(flags['source-test'] ? { sourceTest: flags['source-test'] as 'digits-m-0-4' } : {}),
    read: { allowSingleClass: flags['allow-single-class'], onBadImage: (flags['on-bad-image'] ?? 'error') as 'error' | 'skip' },
    progress: process.stderr.isTTY === true,
    onRow: (row: Row) => {
      if (flags.json) process.stdout.write(JSON.stringify(row) + '\n');
      else
        log(
          `  ${row.strategy.padEnd(17)} m=${String(row.m).padEnd(4)} seed=${row.seed} cut=${row.cutAt} lr=${row.lr}  accuracy ${row.accuracy.toFixed(3)}  ` +
            `macro-F1 ${row.macroF1.toFixed(3)}  ${row.trainableParams} trainable${row.sourceAccuracy !== null ? `  source ${row.sourceAccuracy.toFixed(3)}` : ''}  ${row.seconds.toFixed(1)} s`,
        );
    },
  };
  for (const k of Object.keys(common.budget) as Array<keyof typeof common.budget>) if (common.budget[k] === undefined) delete common.budget[k];
  const result = flags['cut-sweep']
    ? await cutSweep({ ...common, m: flags.m![0], ...(flags.cuts ? { cuts: flags.cuts } : {}) })
    : await compareStrategies({ ...common, mPerClass: flags.m! });
  if (flags.json) return;
  const by = flags['cut-sweep'] ? 'cut' : 'm';
  console.log(`\n${'strategy'.padEnd(17)} ${by.padEnd(12)} runs  accuracy (mean ± std)  macro-F1   s/run  trainable  lr chosen`);
  for (const s of result.summary) {
    console.log(
      `${s.strategy.padEnd(17)} ${String(flags['cut-sweep'] ? s.cutAt : s.m).padEnd(12)} ${String(s.runs).padEnd(5)} ` +
        `${s.accuracy.toFixed(3)} ± ${s.accuracyStd.toFixed(3)}          ${s.macroF1.toFixed(3)}   ${s.seconds.toFixed(1).padStart(5)}  ${String(s.trainableParams).padStart(9)}  ${s.lrs.join(',')}`,
    );
  }
  console.log(`\n${result.rows.length} runs in ${((performance.now() - started) / 1000).toFixed(0)} s on ${info.backend}. Protocol: ${result.rows[0]?.protocolText ?? ''}`);
}

if (require.main === module) void runCommand(COMPARE_SPEC, process.argv.slice(2), (flags) => main(flags));
