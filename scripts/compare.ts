/**
 * `npm run compare -- [--source NAME|DIR] --target NAME|FOLDER [--strategies scratch,freeze,finetune,…]
 *                     --m N[,N…] --seeds K|S1,S2… [--json] [--quick] [--steps N] [--min-epochs E] [--lr A,B,…] [--val-per-class N]
 *                     [--cut-sweep [--cuts LAYER,LAYER…]]`
 *
 * Runs lib/train's compareStrategies (or cutSweep) from a terminal under the fair protocol: the same number
 * of optimisation steps for every strategy, each strategy's learning rate chosen on a validation split of the
 * target's training images, accuracy measured once on the target's test (val) images.
 * `--target` is an embedded view (digits-m-5-9, digits-5-9, digits-m, …) or a folder with train/ and val/
 * (class folders below). `--json` prints one JSON object per run on stdout (progress goes to stderr).
 */
import * as fs from 'fs';
import * as path from 'path';

export interface CompareArgs {
  source?: string;
  target: string;
  strategies?: string[];
  m: number[];
  /** A count K (seeds 1..K) or an explicit list. */
  seeds: number | number[];
  json: boolean;
  quick: boolean;
  steps?: number;
  minEpochs?: number;
  lr?: number[];
  valPerClass?: number;
  cutSweep: boolean;
  cuts?: string[];
}

const USAGE =
  'usage: npm run compare -- [--source NAME|DIR] --target VIEW|FOLDER [--strategies scratch,freeze,finetune] ' +
  '--m N[,N…] --seeds K|S1,S2… [--json] [--quick] [--steps N] [--min-epochs E] [--lr A,B] [--val-per-class N] [--cut-sweep [--cuts L1,L2]]';

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`compare: ${flag} expects a positive integer, got '${v}'\n${USAGE}`);
  return n;
}

/** Parses the command line (throws with the usage on a mistake). */
export function parseCompareArgs(argv: string[]): CompareArgs {
  const out: Partial<CompareArgs> & { json: boolean; quick: boolean; cutSweep: boolean } = { json: false, quick: false, cutSweep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`compare: ${a} needs a value\n${USAGE}`);
      return v;
    };
    switch (a) {
      case '--source':
        out.source = value();
        break;
      case '--target':
        out.target = value();
        break;
      case '--strategies':
        out.strategies = value().split(',').filter(Boolean);
        break;
      case '--m':
        out.m = value().split(',').map((v) => positiveInt('--m', v));
        break;
      case '--seeds': {
        // `--seeds 3` = seeds 1, 2, 3; `--seeds 4,7` = exactly those.
        const v = value();
        out.seeds = v.includes(',') ? [...new Set(v.split(',').map((x) => positiveInt('--seeds', x)))] : positiveInt('--seeds', v);
        break;
      }
      case '--steps':
        out.steps = positiveInt('--steps', value());
        break;
      case '--min-epochs':
        out.minEpochs = Number(value());
        if (!(out.minEpochs >= 0)) throw new Error(`compare: --min-epochs expects a number ≥ 0`);
        break;
      case '--lr':
        out.lr = value()
          .split(',')
          .map((v) => {
            const x = Number(v);
            if (!(x > 0)) throw new Error(`compare: --lr expects positive numbers, got '${v}'`);
            return x;
          });
        break;
      case '--val-per-class':
        out.valPerClass = positiveInt('--val-per-class', value());
        break;
      case '--cuts':
        out.cuts = value().split(',').filter(Boolean);
        break;
      case '--cut-sweep':
        out.cutSweep = true;
        break;
      case '--json':
        out.json = true;
        break;
      case '--quick':
        out.quick = true;
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`compare: unknown option '${a}'\n${USAGE}`);
    }
  }
  if (!out.target) throw new Error(`compare: --target is required\n${USAGE}`);
  if (!out.m) throw new Error(`compare: --m is required\n${USAGE}`);
  if (out.cutSweep && out.m.length !== 1) throw new Error('compare: --cut-sweep takes one --m value');
  return { seeds: 1, ...out } as CompareArgs;
}

async function main(argv: string[]): Promise<void> {
  const args = parseCompareArgs(argv);
  // Quick mode must be set before the library reads KIT_QUICK at load time.
  if (args.quick) process.env.KIT_QUICK = '1';
  const { initBackend } = await import('../lib/backend');
  const { compareStrategies, cutSweep } = await import('../lib/train');
  const { STRATEGIES } = await import('../lib/models');
  const STRATEGIES_FOR_CLI: string[] = STRATEGIES;
  const info = await initBackend();
  const strategies = args.strategies ?? (args.cutSweep ? ['freeze', 'finetune'] : ['scratch', 'freeze', 'finetune']);
  const unknown = strategies.filter((s) => !STRATEGIES_FOR_CLI.includes(s));
  if (unknown.length) throw new Error(`compare: unknown strategy ${unknown.join(', ')}; expected some of ${STRATEGIES_FOR_CLI.join(', ')}`);
  if (!['digits', 'digits-m', 'digits-0-4', 'digits-5-9', 'digits-m-0-4', 'digits-m-5-9'].includes(args.target)) {
    const root = path.resolve(args.target);
    if (!fs.existsSync(path.join(root, 'train')) || !fs.existsSync(path.join(root, 'val'))) {
      throw new Error(`compare: --target '${args.target}' is neither an embedded view nor a folder with train/ and val/ inside (looked in ${root})`);
    }
  }
  const log = (msg: string) => process.stderr.write(msg + '\n');
  log(`compare: ${args.source ?? 'digits-m-0-4'} → ${args.target}, strategies ${strategies.join(', ')}, m ${args.m.join(', ')}, seeds ${Array.isArray(args.seeds) ? args.seeds.join(',') : `1..${args.seeds}`}, backend ${info.backend}${args.quick ? ', quick' : ''}`);
  const started = performance.now();
  const common = {
    source: args.source,
    target: args.target,
    seeds: args.seeds,
    strategies: strategies as Parameters<typeof compareStrategies>[0]['strategies'],
    budget: { ...(args.steps ? { steps: args.steps } : {}), ...(args.minEpochs !== undefined ? { minEpochs: args.minEpochs } : {}) },
    ...(args.lr ? { lrGrid: args.lr } : {}),
    ...(args.valPerClass ? { valPerClass: args.valPerClass } : {}),
    progress: process.stderr.isTTY === true,
    onRow: (row: { strategy: string; m: number; seed: number; accuracy: number; macroF1: number; lr: number; seconds: number; cutAt: string }) => {
      if (args.json) {
        process.stdout.write(JSON.stringify(row) + '\n');
      } else {
        log(
          `  ${row.strategy.padEnd(17)} m=${String(row.m).padEnd(4)} seed=${row.seed} cut=${row.cutAt} lr=${row.lr}  ` +
            `accuracy ${row.accuracy.toFixed(3)}  macro-F1 ${row.macroF1.toFixed(3)}  ${row.seconds.toFixed(1)} s`,
        );
      }
    },
  };
  const result = args.cutSweep
    ? await cutSweep({ ...common, m: args.m[0], ...(args.cuts ? { cuts: args.cuts } : {}) })
    : await compareStrategies({ ...common, mPerClass: args.m });
  if (!args.json) {
    const by = args.cutSweep ? 'cut' : 'm';
    console.log(`\n${'strategy'.padEnd(17)} ${by.padEnd(12)} runs  accuracy (mean ± std)  macro-F1   s/run  lr chosen`);
    for (const s of result.summary) {
      console.log(
        `${s.strategy.padEnd(17)} ${String(args.cutSweep ? s.cutAt : s.m).padEnd(12)} ${String(s.runs).padEnd(5)} ` +
          `${s.accuracy.toFixed(3)} ± ${s.accuracyStd.toFixed(3)}          ${s.macroF1.toFixed(3)}   ${s.seconds.toFixed(1).padStart(5)}  ${s.lrs.join(',')}`,
      );
    }
    console.log(`\n${result.rows.length} runs in ${((performance.now() - started) / 1000).toFixed(0)} s on ${info.backend}. Protocol: ${result.rows[0]?.protocolText ?? ''}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
