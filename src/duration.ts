// Go duration strings (`15s`, `1m30s`, `0.001s`) as Consul reads and writes them everywhere:
// flags, config files, JSON bodies and query parameters. A leaf module shared by all layers.

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

/** Go's time package quoting of a string in its errors: `"`-wrapped, `"` and `\\` escaped, other bytes outside printable ASCII as `\\xNN`. */
function goQuote(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b >= 0x80) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

const GO_UNITS = new Set(['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h']);

/**
 * The error Go's time.ParseDuration gives for `s` (as Consul's messages embed it): `time: missing unit
 * in duration "4"`, `time: unknown unit "x" in duration "4x"`, else `time: invalid duration "…"`.
 * Meant for a string parseGoDuration refused.
 */
export function goDurationError(s: string): string {
  const invalid = `time: invalid duration ${goQuote(s)}`;
  let rest = s.startsWith('-') || s.startsWith('+') ? s.slice(1) : s;
  if (rest === '') return invalid;
  while (rest !== '') {
    const num = /^([0-9]*)(\.([0-9]*))?/.exec(rest)!;
    if (num[0] === '' || (num[1] === '' && (num[3] ?? '') === '')) return invalid;
    rest = rest.slice(num[0].length);
    const unit = /^[^0-9.]*/.exec(rest)![0];
    if (unit === '') return `time: missing unit in duration ${goQuote(s)}`;
    if (!GO_UNITS.has(unit)) return `time: unknown unit ${goQuote(unit)} in duration ${goQuote(s)}`;
    rest = rest.slice(unit.length);
  }
  return invalid;
}

/**
 * A duration setting of the merged configuration in milliseconds: a number is already in
 * milliseconds, a string is a Go duration; anything else, or an invalid string, is `fallback`.
 */
export function durationSetting(v: unknown, fallback: number): number {
  if (typeof v === 'number') return v;
  return typeof v === 'string' ? parseGoDuration(v) ?? fallback : fallback;
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
