/**
 * One command-line convention for every `npm run …` entry: Node's `util.parseArgs` (strict: an unknown flag is an
 * error) under a typed spec. Flags are `--name value` or `--name=value`; booleans are bare `--name`; lists are
 * comma-separated (`--m 5,10,50`); numbers are decimal only (`0x2`, `1e`, `` are refused). `--help` / `-h` prints the
 * usage and exits 0; a usage mistake prints the message and the usage on stderr and exits 2.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';

/** The kit's folder (scripts/lib/ is two below it). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** How a flag's text becomes a value. */
export type FlagKind = 'boolean' | 'string' | 'int' | 'number' | 'strings' | 'ints' | 'numbers';

/** One flag of a command. */
export interface FlagSpec {
  kind: FlagKind;
  /** One line for `--help`. */
  help: string;
  /** A one-letter alias (`-o`). */
  short?: string;
  /** Placeholder shown in the usage (`--out DIR`). */
  arg?: string;
  /** For int/number (and their lists): the smallest value allowed. */
  min?: number;
  /** The flag may be given several times (values are collected; lists are concatenated). */
  multiple?: boolean;
  /** A string flag restricted to these values. */
  choices?: readonly string[];
  /** The command fails with a usage error when the flag is missing. */
  required?: boolean;
}

/** A command: its name, a one-line summary, its flags and its positional arguments. */
export interface CommandSpec {
  /** As typed by the user, e.g. `npm run compare --`. */
  name: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  /** Positional arguments: a name for the usage line, and how many are allowed. */
  positionals?: { name: string; help: string; min?: number; max?: number };
  /** Extra lines after the flag list (examples). */
  epilog?: string;
}

type ValueOf<F extends FlagSpec> = F['kind'] extends 'boolean'
  ? boolean
  : F['kind'] extends 'string'
    ? F['multiple'] extends true
      ? string[]
      : string
    : F['kind'] extends 'int' | 'number'
      ? F['multiple'] extends true
        ? number[]
        : number
      : F['kind'] extends 'strings'
        ? string[]
        : number[];

/** The parsed values of a spec: booleans are always present (false by default), other flags only when given. */
export type ParsedFlags<S extends CommandSpec> = {
  [K in keyof S['flags']]: S['flags'][K]['kind'] extends 'boolean' ? boolean : ValueOf<S['flags'][K]> | undefined;
};

/**
 * Flags several commands share, written once so that they mean the same everywhere: `--source DIR` (the
 * instructor notebooks), `--jobs N` (notebooks at a time) and `--timeout S` (seconds per cell), each with the
 * command's own default in its help line.
 */
export const sharedFlag = {
  source: () => ({ kind: 'string', arg: 'DIR', help: 'the instructor notebooks (default notebooks/)' }) as const,
  jobs: (what: string, fallback: number) => ({ kind: 'int', arg: 'N', min: 1, help: `${what} at a time (default ${fallback})` }) as const,
  timeout: (fallback: number) => ({ kind: 'number', arg: 'S', min: 1, help: `seconds one cell may run (default ${fallback})` }) as const,
};

/** A mistake in the command line: the CLI prints it with the usage and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal number (refuses hex, octal, binary, empty and trailing junk), checked against `min`. */
export function parseNumber(flag: string, text: string, integer: boolean, min?: number): number {
  const t = text.trim();
  if (!DECIMAL.test(t) || (integer && !/^[+-]?\d+$/.test(t))) {
    throw new UsageError(`--${flag} expects ${integer ? 'a whole number' : 'a decimal number'}, got '${text}'`);
  }
  const n = Number(t);
  if (min !== undefined && n < min) throw new UsageError(`--${flag} must be ≥ ${min}, got ${text}`);
  return n;
}

/** The items of a comma-separated list; an empty list or an empty item is a usage error. */
export function parseList(flag: string, text: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (text.trim() === '' || items.some((s) => s === '')) throw new UsageError(`--${flag} expects a comma-separated list with no empty items, got '${text}'`);
  return items;
}

function convert(flag: string, spec: FlagSpec, raw: string): unknown {
  switch (spec.kind) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) throw new UsageError(`--${flag} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
      if (raw === '') throw new UsageError(`--${flag} needs a value`);
      return raw;
    case 'int':
    case 'number':
      return parseNumber(flag, raw, spec.kind === 'int', spec.min);
    case 'strings':
      return parseList(flag, raw);
    case 'ints':
    case 'numbers':
      return parseList(flag, raw).map((s) => parseNumber(flag, s, spec.kind === 'ints', spec.min));
    default:
      throw new Error(`cli: flag --${flag} has unknown kind ${spec.kind as string}`);
  }
}

/** The usage text of a command (what `--help` prints). */
export function usage(spec: CommandSpec): string {
  const flagText = (name: string, f: FlagSpec) => `--${name}${f.kind === 'boolean' ? '' : ` ${f.arg ?? (f.kind.endsWith('s') && f.kind !== 'string' ? 'A,B,…' : 'X')}`}`;
  const line = [spec.name, ...(spec.positionals ? [`[${spec.positionals.name}…]`] : []), ...Object.entries(spec.flags).map(([n, f]) => (f.required ? flagText(n, f) : `[${flagText(n, f)}]`))];
  const width = Math.max(...Object.entries(spec.flags).map(([n, f]) => flagText(n, f).length + (f.short ? 4 : 0)), 10);
  const rows = Object.entries(spec.flags).map(([n, f]) => `  ${((f.short ? `-${f.short}, ` : '') + flagText(n, f)).padEnd(width)}  ${f.help}`);
  if (spec.positionals) rows.unshift(`  ${spec.positionals.name.padEnd(width)}  ${spec.positionals.help}`);
  rows.push(`  ${'--help, -h'.padEnd(width)}  print this help and exit`);
  return [`usage: ${line.join(' ')}`, '', spec.summary, '', ...rows, ...(spec.epilog ? ['', spec.epilog] : [])].join('\n');
}

/** Parses `argv` against `spec`; throws UsageError on anything it does not understand. `help` is true for --help. */
export function parseCommand<S extends CommandSpec>(spec: S, argv: string[]): { flags: ParsedFlags<S>; positionals: string[]; help: boolean } {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(spec.flags)) {
    options[name] = { type: f.kind === 'boolean' ? 'boolean' : 'string', ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    // Node's messages name the flag ("Unknown option '--bogus'", "Option '--out <value>' argument missing", "… ambiguous").
    const msg = (e as Error).message;
    const missing = /^Option '(?:-\w, )?(--?[^ ',]+)[^']*' argument (missing|is ambiguous)/.exec(msg);
    throw new UsageError(missing ? `${missing[1]} needs a value` : msg.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.values.help) return { flags: {} as ParsedFlags<S>, positionals: [], help: true };
  const flags: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    const raw = parsed.values[name];
    if (f.kind === 'boolean') {
      flags[name] = raw === true;
      continue;
    }
    if (raw === undefined) {
      if (f.required) throw new UsageError(`--${name} is required`);
      continue;
    }
    const texts = Array.isArray(raw) ? (raw as string[]) : [raw as string];
    for (const t of texts) if (t.startsWith('--')) throw new UsageError(`--${name} needs a value (got the flag '${t}')`);
    const values = texts.map((t) => convert(name, f, t));
    flags[name] = f.multiple ? (f.kind.endsWith('s') && f.kind !== 'string' ? (values as unknown[][]).flat() : values) : values[0];
  }
  const pos = spec.positionals;
  if (!pos && parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  if (pos && pos.min !== undefined && parsed.positionals.length < pos.min) throw new UsageError(`expected at least ${pos.min} ${pos.name}`);
  if (pos && pos.max !== undefined && parsed.positionals.length > pos.max) throw new UsageError(`expected at most ${pos.max} ${pos.name}, got ${parsed.positionals.length}`);
  return { flags: flags as ParsedFlags<S>, positionals: parsed.positionals, help: false };
}

/**
 * Runs a command's `main` with its parsed flags: `--help` prints the usage (exit 0); a UsageError — from the
 * parser or thrown by `main` — prints `<name>: <message>` and the usage on stderr and exits 2; any other error
 * prints its message and exits 1. `main` may return an exit status.
 */
export async function runCommand<S extends CommandSpec>(
  spec: S,
  argv: string[],
  main: (flags: ParsedFlags<S>, positionals: string[]) => Promise<number | void> | number | void,
): Promise<never> {
  let status = 0;
  try {
    const { flags, positionals, help } = parseCommand(spec, argv);
    if (help) {
      process.stdout.write(usage(spec) + '\n');
    } else {
      status = (await main(flags, positionals)) ?? 0;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${spec.name}: ${e.message}\n\n${usage(spec)}\n`);
      status = 2;
    } else {
      process.stderr.write(`${spec.name}: ${(e as Error)?.stack ?? String(e)}\n`);
      status = 1;
    }
  }
  process.exit(status);
}
