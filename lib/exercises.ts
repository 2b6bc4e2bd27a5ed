/**
 * Exercise checks for the notebooks. `assertAnswer('05-ex3', value)` compares an answer with the reference stored
 * for that exercise id in data/references/exercises.json — a range measured over seeds (full and quick mode) or a
 * salted hash — and says right, close or wrong, never higher or lower; the answer never appears in a notebook.
 * `assertImplementation` checks a student's function against the library's on fresh random inputs.
 * Checks print their verdict on stdout and throw on anything but right, so an nbgrader test cell scores them;
 * they write nothing to stderr (warnings of the code under test are routed to stdout).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { isQuick, repoRoot } from './config';
import { Rng } from './random';

/** Which reference applies: full mode, or quick mode (KIT_QUICK=1). */
export type ReferenceMode = 'full' | 'quick';

/** A range measured over seeds, with the values it came from. */
export interface MeasuredRange {
  min: number;
  max: number;
  seeds?: number[];
  values?: number[];
  /** when and where it was measured (written by `npm run references`) */
  measured?: string;
}

/** A numeric answer accepted inside [min − tolerance, max + tolerance] of the mode's measured range. */
export interface RangeReference {
  kind: 'range';
  what: string;
  tolerance?: number;
  full: MeasuredRange;
  quick: MeasuredRange;
}

/** How a hashed answer is normalised before hashing. */
export type HashNormalize = 'text' | 'lower' | 'integer' | 'choice' | 'set';

/** An exact answer (a word, a count, a choice among statements) stored as salted SHA-256 prefixes. */
export interface HashReference {
  kind: 'hash';
  what: string;
  normalize: HashNormalize;
  /** accepted answers: sha256(`${id}\n${normalised}`), first 16 hex digits */
  sha256: string[];
}

export type ExerciseReference = RangeReference | HashReference;

/** The reference file: exercise id → reference. */
export interface ReferenceFile {
  schema: 1;
  exercises: Record<string, ExerciseReference>;
}

/** A check's outcome. `close` only ever says how far, never in which direction. */
export interface CheckResult {
  id: string;
  verdict: 'right' | 'close' | 'wrong' | 'unanswered';
  message: string;
}

/** Thrown by the assert* checks when an answer is not right (its stack is kept short for the notebook). */
export class AnswerError extends Error {
  declare readonly verdict: CheckResult;

  constructor(verdict: CheckResult) {
    super(verdict.message);
    // not enumerable, so the notebook prints the message alone; a short stack (the frames are the kit's)
    Object.defineProperty(this, 'name', { value: 'AnswerError', enumerable: false, configurable: true, writable: true });
    Object.defineProperty(this, 'verdict', { value: verdict, enumerable: false });
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** The reference file in use: KIT_REFERENCES, else data/references/exercises.json. */
export function referencesPath(): string {
  return process.env.KIT_REFERENCES ? path.resolve(process.env.KIT_REFERENCES) : path.join(repoRoot(), 'data', 'references', 'exercises.json');
}

let cache: { file: string; mtimeMs: number; refs: ReferenceFile } | null = null;

/** Read (and cache) a reference file; errors name the file and the fix. */
export function loadReferences(file = referencesPath()): ReferenceFile {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new Error(`exercise references: ${file} does not exist (run \`npm run references\` or set KIT_REFERENCES to the file)`);
  }
  if (cache && cache.file === file && cache.mtimeMs === stat.mtimeMs) return cache.refs;
  let refs: ReferenceFile;
  try {
    refs = JSON.parse(fs.readFileSync(file, 'utf8')) as ReferenceFile;
  } catch (e) {
    throw new Error(`exercise references: ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (refs.schema !== 1 || typeof refs.exercises !== 'object' || refs.exercises === null) {
    throw new Error(`exercise references: ${file} needs { "schema": 1, "exercises": { id: reference } }`);
  }
  cache = { file, mtimeMs: stat.mtimeMs, refs };
  return refs;
}

/** The mode the references are read in, decided when a check runs (KIT_QUICK=1 → quick). */
export function referenceMode(): ReferenceMode {
  return isQuick() ? 'quick' : 'full';
}

/** The normalised text of an answer that is hashed, or null when it has no answer of that kind. */
export function normalizeAnswer(value: unknown, how: HashNormalize): string | null {
  if (value === null || value === undefined) return null;
  if (how === 'set') {
    if (!Array.isArray(value) || value.length === 0) return null;
    return [...new Set(value.map((v) => String(v).normalize('NFC').trim().toLowerCase()))].sort().join(',');
  }
  if (how === 'integer') return typeof value === 'number' && Number.isInteger(value) ? String(value) : null;
  const text = String(value).normalize('NFC').trim();
  if (text === '') return null;
  return how === 'text' ? text : text.toLowerCase();
}

/** The stored form of an accepted answer: sha256 of `${id}\n${normalised}`, first 16 hex digits. */
export function answerHash(id: string, normalized: string): string {
  return createHash('sha256').update(`${id}\n${normalized}`).digest('hex').slice(0, 16);
}

function lookup(id: string): ExerciseReference {
  const file = referencesPath();
  const ref = loadReferences(file).exercises[id];
  if (!ref) throw new Error(`exercise references: no reference for '${id}' in ${file} (check the id, or add it and run \`npm run references\`)`);
  return ref;
}

function checkRange(id: string, ref: RangeReference, value: unknown, mode: ReferenceMode): CheckResult {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    return { id, verdict: 'unanswered', message: `${id}: no answer yet (expected a number, got ${value === undefined ? 'undefined' : JSON.stringify(value)})` };
  }
  const r = ref[mode];
  if (!r || !Number.isFinite(r.min) || !Number.isFinite(r.max)) throw new Error(`exercise references: '${id}' has no ${mode}-mode range (run \`npm run references\`)`);
  const tol = ref.tolerance ?? 0;
  const lo = r.min - tol;
  const hi = r.max + tol;
  const seeds = r.values?.length ?? r.seeds?.length;
  const over = seeds ? ` measured over ${seeds} seed${seeds === 1 ? '' : 's'}` : '';
  if (value >= lo && value <= hi) return { id, verdict: 'right', message: `${id}: right — inside the range${over}` };
  const distance = value < lo ? lo - value : value - hi;
  const scale = Math.max(Math.abs(lo), Math.abs(hi), hi - lo, 1e-12);
  const pct = Math.max(1, Math.round((100 * distance) / scale));
  const close = pct <= 10;
  return {
    id,
    verdict: close ? 'close' : 'wrong',
    message: `${id}: ${close ? 'close, not right yet' : 'not right'} — about ${pct}% (of the reference's size) outside the accepted range${over}`,
  };
}

function checkHash(id: string, ref: HashReference, value: unknown): CheckResult {
  const norm = normalizeAnswer(value, ref.normalize);
  if (norm === null) {
    const want = { text: 'a non-empty text', lower: 'a non-empty text', integer: 'a whole number', choice: 'the letter of one statement', set: 'a non-empty list' }[ref.normalize];
    return { id, verdict: 'unanswered', message: `${id}: no answer yet (expected ${want}, got ${value === undefined ? 'undefined' : JSON.stringify(value)})` };
  }
  return ref.sha256.includes(answerHash(id, norm))
    ? { id, verdict: 'right', message: `${id}: right` }
    : { id, verdict: 'wrong', message: `${id}: not right` };
}

/** Compare an answer with the stored reference of exercise `id` (pure: prints nothing, throws only on a bad id). */
export function checkAnswer(id: string, value: unknown): CheckResult {
  const ref = lookup(id);
  if (ref.kind === 'range') return checkRange(id, ref, value, referenceMode());
  if (ref.kind === 'hash') return checkHash(id, ref, value);
  throw new Error(`exercise references: '${id}' has unknown kind '${(ref as { kind: string }).kind}' (expected range or hash)`);
}

/** Append a measured answer to KIT_RECORD_ANSWERS (used by `npm run references`); false when not recording. */
function recordAnswer(id: string, value: unknown): boolean {
  const file = process.env.KIT_RECORD_ANSWERS;
  if (!file) return false;
  fs.appendFileSync(file, JSON.stringify({ id, value, mode: referenceMode() }) + '\n');
  return true;
}

/**
 * The test-cell form of checkAnswer: prints `✔ id: right…` on stdout, or throws an AnswerError that says how far
 * off the answer is (never in which direction). In a references run (KIT_RECORD_ANSWERS) a range answer is
 * recorded instead of checked.
 */
export function assertAnswer(id: string, value: unknown): void {
  if (recordAnswer(id, value)) {
    const ref = loadReferences().exercises[id];
    if (!ref || ref.kind === 'range') {
      process.stdout.write(`● ${id}: recorded ${JSON.stringify(value)} (references run)\n`);
      return;
    }
  }
  const v = checkAnswer(id, value);
  if (v.verdict !== 'right') throw new AnswerError({ ...v, message: `✘ ${v.message}` });
  process.stdout.write(`✔ ${v.message}\n`);
}

/**
 * Run fn with console.warn / console.error routed to stdout (each distinct message once, with a count), so a graded
 * cell writes nothing to stderr — nbgrader scores a test cell with any stderr output 0.
 */
export async function withQuietStderr<T>(fn: () => T | Promise<T>): Promise<T> {
  const { warn, error } = console;
  const seen = new Map<string, number>();
  const collect = (...args: unknown[]) => {
    const m = args.map(String).join(' ');
    seen.set(m, (seen.get(m) ?? 0) + 1);
  };
  console.warn = collect;
  console.error = collect;
  try {
    return await fn();
  } finally {
    console.warn = warn;
    console.error = error;
    for (const [m, n] of seen) process.stdout.write(`warning${n > 1 ? ` (×${n})` : ''}: ${m}\n`);
  }
}

/** Plain data of a value for comparison: tensors become nested arrays (and are disposed), typed arrays arrays. */
async function plain(v: unknown): Promise<unknown> {
  const t = v as { array?: () => Promise<unknown>; dispose?: () => void; shape?: unknown };
  if (t && typeof t === 'object' && typeof t.array === 'function' && Array.isArray(t.shape)) {
    const a = await t.array();
    t.dispose?.();
    return a;
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
}

/** True when a and b agree: numbers within tol·max(1, |b|), arrays and plain objects element by element. */
export function sameValue(a: unknown, b: unknown, tol = 1e-6): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i], tol));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return sameValue(ka, kb) && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tol));
  }
  return Object.is(a, b);
}

/** Options of assertImplementation. */
export interface ImplementationCheck {
  /** the arguments of one trial, drawn from the check's own generator */
  inputs: (rng: Rng, trial: number) => unknown[];
  /** how many fresh inputs (default 20) */
  trials?: number;
  /** the generator's seed (default: derived from the exercise id) */
  seed?: number | string;
  /** relative tolerance for numbers (default 1e-6) */
  tolerance?: number;
}

function describeArgs(args: unknown[]): string {
  const s = args.map((a) => (typeof a === 'function' ? 'ƒ' : JSON.stringify(a) ?? String(a))).join(', ');
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

/**
 * Check a student's function against the library's on fresh inputs: prints `✔ id: matches … on N of N` or throws
 * an AnswerError saying on how many inputs it matched and the first input where it did not (never the expected value).
 */
export async function assertImplementation(
  id: string, candidate: (...args: any[]) => unknown, reference: (...args: any[]) => unknown, opts: ImplementationCheck,
): Promise<void> {
  if (typeof candidate !== 'function') {
    throw new AnswerError({ id, verdict: 'unanswered', message: `✘ ${id}: no answer yet (expected a function, got ${typeof candidate})` });
  }
  const trials = opts.trials ?? 20;
  const rng = new Rng(opts.seed ?? `exercise:${id}`);
  let matched = 0;
  let first: string | null = null;
  await withQuietStderr(async () => {
    for (let t = 0; t < trials; t++) {
      const args = opts.inputs(rng, t);
      const want = await plain(await reference(...args));
      let got: unknown;
      let failure = '';
      try {
        got = await plain(await candidate(...args));
      } catch (e) {
        failure = ` (it threw ${(e as Error)?.name ?? 'an error'}: ${String((e as Error)?.message ?? e).slice(0, 120)})`;
      }
      if (!failure && sameValue(got, want, opts.tolerance ?? 1e-6)) matched++;
      else first ??= `(${describeArgs(args)})${failure}`;
    }
  });
  if (matched === trials) {
    process.stdout.write(`✔ ${id}: right — matches the library on ${trials} of ${trials} fresh inputs\n`);
    return;
  }
  const verdict: CheckResult['verdict'] = matched >= trials * 0.8 ? 'close' : 'wrong';
  throw new AnswerError({ id, verdict, message: `✘ ${id}: ${verdict === 'close' ? 'close, not right yet' : 'not right'} — matches the library on ${matched} of ${trials} fresh inputs; the first that differs: ${first}` });
}
