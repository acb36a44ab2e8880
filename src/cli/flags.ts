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
  values: Record<string, string | boolean | number | bigint | string[]>;
  /** Flags that appeared on the command line, in order. */
  given: Set<string>;
  args: string[];
}

/** Thrown for a flag error; the message matches Go's flag package. */
export class FlagError extends Error {
  override name = 'FlagError';
}

export { parseGoDuration, formatGoDuration } from '../duration.ts';
import { parseGoDuration } from '../duration.ts';

function convert(def: FlagDef, raw: string): string | boolean | number | bigint {
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
      // uint64 values past 2^53 (KV flags) stay exact as BigInt.
      return Number.isSafeInteger(Number(raw)) ? Number(raw) : BigInt(raw);
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
