/**
 * Command-line arguments of `p2pcomm`: options may come anywhere (`--name value` or
 * `--name=value`), `--` ends them, and every option is checked against the list below so a
 * typo is a usage error, not silently ignored.
 */
import { CliError } from './exit.ts';

/** Options taking a value; `repeat` ones may be given more than once. */
const VALUED: Readonly<Record<string, { readonly repeat?: boolean }>> = {
  data: {},
  node: {},
  faucet: {},
  'password-file': {},
  'host-address': { repeat: true },
  name: {},
  limit: {},
  wait: {},
  timeout: {},
};

/** Switches. */
const FLAGS = new Set(['json', 'help', 'no-qr', 'quiet', 'everyone', 'for-me']);

/** Parsed arguments. */
export interface Args {
  readonly positional: readonly string[];
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly flags: ReadonlySet<string>;
}

/** Parses `argv` (without node and script). UsageError-style CliError on unknown options. */
export function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      flags.add('help');
      continue;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (FLAGS.has(name)) {
      if (eq >= 0) throw new CliError('USAGE', `--${name} takes no value`);
      flags.add(name);
      continue;
    }
    const spec = VALUED[name];
    if (spec === undefined) throw new CliError('USAGE', `Unknown option --${name}`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new CliError('USAGE', `--${name} needs a value`);
    const list = values.get(name) ?? [];
    if (list.length > 0 && spec.repeat !== true) throw new CliError('USAGE', `--${name} given twice`);
    list.push(value);
    values.set(name, list);
  }
  return { positional, values, flags };
}

/** The single value of option `name`, if given. */
export function valueOf(args: Args, name: string): string | undefined {
  return args.values.get(name)?.[0];
}

/** A whole number of at least `min` from option `name`, or `fallback`. */
export function intOf(args: Args, name: string, fallback: number, min = 0): number {
  const raw = valueOf(args, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min)
    throw new CliError('USAGE', `--${name} expects a whole number of at least ${min}, got ${raw}`);
  return Number(raw);
}
