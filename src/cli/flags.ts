// Go-style command-line flags as Consul's CLI parses them: `-name=value`, `-name value`,
// `--name`, boolean flags without a value, repeatable list flags, parsing stops at the first
// non-flag argument or `--`.

/** The kinds of flag values. */
export type FlagKind = 'string' | 'bool' | 'int' | 'uint' | 'duration' | 'list';

/** One flag definition. */
export interface FlagDef {
  name: string;
  kind: FlagKind;
  usage: string;
  default?: string | boolean | number | string[];
  /** Name of the value in help (`-http-addr=<address>`); default from the kind, as Go's flag.UnquoteUsage. */
  placeholder?: string;
}

/** Parsed flag values by name (only flags that were given or have defaults) and the rest. */
export interface ParsedFlags {
  values: Record<string, string | boolean | number | string[]>;
  /** Flags that appeared on the command line, in order. */
  given: Set<string>;
  args: string[];
}

/** Thrown for a flag error; the message matches Go's flag package. */
export class FlagError extends Error {
  override name = 'FlagError';
}

const GO_DURATION = /^([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$/;

/** Parses a Go duration string (`1m30s`, `0.001s`, `15s`) to milliseconds; null if invalid. */
export function parseGoDuration(s: string): number | null {
  if (s === '0') return 0;
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (!rest || !GO_DURATION.test(rest)) return null;
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of rest.matchAll(/([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)/g)) {
    if (m[1] === '' || m[1] === '.') return null;
    total += Number(m[1]) * unitMs[m[2]];
  }
  return sign * total;
}

/** Formats milliseconds as a Go duration string (`15s`, `1m30s`, `500ms`, `0s`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let ns = Math.round(Math.abs(ms) * 1e6);
  let out: string;
  if (ns < 1e9) {
    if (ns < 1e3) out = `${ns}ns`;
    else if (ns < 1e6) out = `${trim(ns / 1e3)}µs`;
    else out = `${trim(ns / 1e6)}ms`;
  } else {
    const h = Math.floor(ns / 3.6e12);
    ns -= h * 3.6e12;
    const m = Math.floor(ns / 6e10);
    ns -= m * 6e10;
    const s = `${trim(ns / 1e9)}s`;
    out = h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}

function convert(def: FlagDef, raw: string): string | boolean | number {
  switch (def.kind) {
    case 'bool': {
      const v = raw.toLowerCase();
      if (['1', 't', 'true'].includes(v)) return true;
      if (['0', 'f', 'false'].includes(v)) return false;
      throw new FlagError(`invalid boolean value "${raw}" for -${def.name}: parse error`);
    }
    case 'int':
    case 'uint': {
      if (!(def.kind === 'uint' ? /^\d+$/ : /^-?\d+$/).test(raw)) throw new FlagError(`invalid value "${raw}" for flag -${def.name}: parse error`);
      return Number(raw);
    }
    case 'duration': {
      const ms = parseGoDuration(raw);
      if (ms === null) throw new FlagError(`invalid value "${raw}" for flag -${def.name}: parse error`);
      return ms;
    }
    default:
      return raw;
  }
}

/** Parses `argv` against `defs`, Go flag-package style. */
export function parseFlags(defs: FlagDef[], argv: string[]): ParsedFlags {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const values: ParsedFlags['values'] = {};
  for (const d of defs) if (d.default !== undefined) values[d.name] = Array.isArray(d.default) ? [...d.default] : d.default;
  const given = new Set<string>();
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const def = byName.get(name);
    if (!def) throw new FlagError(`flag provided but not defined: -${name}`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (def.kind === 'bool') raw = 'true';
    else {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
      raw = argv[++i];
    }
    if (def.kind === 'list') {
      // The first occurrence replaces the default; later ones append.
      const list = given.has(name) ? (values[name] as string[]) : [];
      list.push(raw);
      values[name] = list;
    } else {
      values[name] = convert(def, raw);
    }
    given.add(name);
  }
  return { values, given, args: argv.slice(i) };
}
