// A seeded fuzzer for the HTTP API (api-fuzz.test.ts): for each route it builds malformed
// requests (broken and deep JSON, wrong types, unknown fields, over-long names, invalid UTF-8,
// bad query parameters, odd path segments, bodies beyond the limits), sends them over a real
// socket and judges each answer (no 5xx, no hang, no stack trace or source path in the body).
import http from 'node:http';
import { seededRandom } from '../../src/gossip/random.ts';

/** One malformed request. */
export interface FuzzCase {
  /** The route it aims at, `METHOD pattern`. */
  route: string;
  /** What was malformed, for the failure message. */
  label: string;
  method: string;
  /** The raw request target, sent as is (no normalisation). */
  path: string;
  body?: Buffer;
}

/** An answer, or `hung` when none came in time. */
export interface FuzzAnswer {
  status: number;
  body: string;
  hung?: boolean;
  /** A streamed answer cut off by the fuzzer after its headers (allowed for stream routes). */
  streamed?: boolean;
}

/** A route to fuzz: its key, a concrete valid-looking path and a sample body to mutate. */
export interface FuzzTarget {
  route: string;
  method: string;
  path: string;
  body?: unknown;
}

const QUERY_MUTATIONS = [
  'index=abc', 'index=-1', 'index=1.5', 'index=18446744073709551616', 'index=', 'wait=-1s', 'wait=1y', 'wait=abc',
  'wait=10', 'near=', 'near=%00', 'filter=((', 'filter=Name%20==', 'filter=%22unterminated', 'filter=Foo.Bar%20matches%20%22(%22',
  'dc=unknown-dc', 'dc=%2F..%2F', 'cas=x', 'cas=-1', 'cas=18446744073709551616', 'flags=-1', 'flags=abc',
  'flags=18446744073709551616', 'recurse=%FF', 'recurse=false&keys', 'keys&separator=%00', 'stale&consistent',
  'cached&consistent', 'max_stale=abc', 'ttl=abc', 'pretty=%FF', 'ns=%2F', 'partition=..', 'peer=%00', 'limit=-1',
  'tag=%FF%FE', 'node-meta=nocolon', 'passing=maybe', 'acquire=not-a-uuid', 'release=%00', 'enable=perhaps', 'reason=%FF',
  'token=%00', 'replace-existing-checks=x', 'lock-session=x', 'since=abc', 'format=bogus', 'sort=%00',
];

const PATH_MUTATIONS: Array<(p: string) => string> = [
  (p) => `${p}%2Fx%2F..`, (p) => `${p}%00`, (p) => `${p}/..`, (p) => `${p}/../../../../etc/passwd`, (p) => `${p}/./.`,
  // Dot segments that lead to the guarded key: Consul's mux redirects (301); acting on it loses data.
  (p) => `${p}/../../../../../../../v1/kv/guard/a`, (p) => `${p}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/v1/kv/guard/b`,
  (p) => `${p}%FF%FE`, (p) => `${p}/${'n'.repeat(5000)}`, (p) => `${p}//x`, (p) => `${p}%`, (p) => `${p}%zz`,
];

const WRONG_VALUES: unknown[] = [
  'abc', '', 'NaN', 'Infinity', '-1', '1e309', -1, 0.5, 18446744073709551616, 1e300, true, null, [], [1, 'a'], {}, { X: 1 },
];

/** Raw JSON texts that are malformed or merely of the wrong shape. */
const RAW_BODIES: Array<[string, string | Buffer]> = [
  ['truncated object', '{"Name": "x"'], ['truncated array', '[1,'], ['bare word', 'undefined'], ['trailing junk', '{} x'],
  ['a string', '"str"'], ['an array', '[]'], ['null', 'null'], ['a number', '123'], ['a negative number', '-1'],
  ['a huge number', '1e999'], ['NaN', 'NaN'], ['a huge integer', '184467440737095516160'], ['a boolean', 'true'],
  ['an array of arrays', '[[[]]]'], ['an array of nulls', '[null, null]'], ['duplicate keys', '{"Name":"a","Name":1}'],
  ['__proto__ key', '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}'],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x4e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d])],
  ['raw binary', Buffer.from([0, 1, 2, 0xff, 0x80, 0x7f, 0x1b])], ['a BOM', '\ufeff{}'],
  ['deep arrays', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
  ['deep objects', `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`],
];

/** Bodies beyond the configured limits (512 KiB for KV values and txn requests). */
const LONG = 600 * 1024;

/** Every malformed request for the given routes; `seed` fixes the random choices. */
export function fuzzCases(targets: FuzzTarget[], seed: number): FuzzCase[] {
  const rnd = seededRandom(seed);
  const out: FuzzCase[] = [];
  for (const t of targets) {
    const add = (label: string, path: string, body?: string | Buffer) =>
      out.push({ route: t.route, label, method: t.method, path, body: body === undefined ? undefined : Buffer.from(body) });
    const sample = t.body === undefined ? undefined : typeof t.body === 'string' ? t.body : JSON.stringify(t.body);
    for (const q of sampleOf(QUERY_MUTATIONS, 12, rnd)) add(`query ${q}`, withQuery(t.path, q), sample);
    for (const m of sampleOf(PATH_MUTATIONS, 4, rnd)) add('path segment', withPath(t.path, m), sample);
    add('method not allowed', t.path, sample);
    out[out.length - 1].method = 'PATCH';
    if (t.method === 'GET' || t.method === 'HEAD') continue;
    for (const [label, raw] of RAW_BODIES) add(`body: ${label}`, t.path, raw);
    add('body: very long JSON string', t.path, JSON.stringify('x'.repeat(LONG)));
    add('body: very long junk', t.path, Buffer.alloc(LONG, 0x61));
    if (t.body !== null && typeof t.body === 'object') {
      for (const [label, body] of sampleOf(mutations(t.body, rnd), 24, rnd)) add(`body: ${label}`, t.path, JSON.stringify(body));
    }
  }
  return out;
}

/** `k` items of `xs` chosen by `rnd` (all of them when there are no more). */
function sampleOf<T>(xs: T[], k: number, rnd: () => number): T[] {
  const pool = [...xs];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, k);
}

function withQuery(path: string, q: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${q}`;
}

function withPath(path: string, m: (p: string) => string): string {
  const at = path.indexOf('?');
  return at < 0 ? m(path) : `${m(path.slice(0, at))}${path.slice(at)}`;
}

/** Field-level mutations of a sample body: wrong types, unknown fields, over-long strings. */
function mutations(sample: object, rnd: () => number): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const paths = leafPaths(sample, []);
  for (const p of paths) {
    for (let i = 0; i < 3; i++) {
      const v = pick(WRONG_VALUES);
      out.push([`${p.join('.') || '(root)'} = ${JSON.stringify(v)}`, setAt(sample, p, v)]);
    }
    out.push([`${p.join('.')} over-long`, setAt(sample, p, 'n'.repeat(70_000))]);
  }
  if (!Array.isArray(sample)) out.push(['unknown fields', { ...sample, BogusField: 1, bogus_nested: { a: [1] } }]);
  out.push(['wrapped in an array', [sample]]);
  out.push(['every field null', mapLeaves(sample, () => null)]);
  return out;
}

function leafPaths(v: unknown, at: string[]): string[][] {
  if (v === null || typeof v !== 'object') return [at];
  const entries = Object.entries(v);
  const kids = entries.flatMap(([k, x]) => leafPaths(x, [...at, k]));
  return at.length ? [at, ...kids] : kids;
}

function setAt(v: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: any = Array.isArray(v) ? [...v] : { ...(v as object) };
  copy[path[0]] = setAt(copy[path[0]], path.slice(1), value);
  return copy;
}

function mapLeaves(v: unknown, f: (x: unknown) => unknown): unknown {
  if (v === null || typeof v !== 'object') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapLeaves(x, f));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapLeaves(x, f)]));
}

/** Sends one case over a keep-alive socket; `hung` after `timeoutMs` without a complete answer. */
export function send(agent: http.Agent, addr: string, token: string, c: FuzzCase, timeoutMs: number): Promise<FuzzAnswer> {
  const [host, port] = addr.split(':');
  return new Promise((resolve) => {
    let status = 0;
    const chunks: Buffer[] = [];
    const req = http.request({
      agent, host, port: Number(port), method: c.method, path: c.path,
      headers: { 'X-Consul-Token': token, ...(c.body ? { 'Content-Length': c.body.length } : {}) },
    });
    const timer = setTimeout(() => {
      resolve({ status, body: Buffer.concat(chunks).toString('utf8'), hung: status === 0, streamed: status !== 0 });
      req.destroy();
    }, timeoutMs);
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => { clearTimeout(timer); resolve({ status, body: Buffer.concat(chunks).toString('utf8') }); });
      res.on('error', () => {});
    });
    req.on('error', (err) => { clearTimeout(timer); resolve({ status: 0, body: `client error: ${err.message}` }); });
    req.end(c.body);
  });
}

// A V8 stack frame, a source file of ours, or an absolute path on this machine.
const LEAKS = [
  /\n\s+at [^\n]+[(:]\d+/, /\.ts:\d+/, /file:\/\//, /\/work\//, /node:internal/, /\bTypeError\b/, /\bRangeError\b/, /\bReferenceError\b/,
  /Cannot read propert/, /is not a function/, /is not iterable/, /Maximum call stack/, /Cannot convert/, /undefined is not/, /\[object Object\]/,
];

/**
 * Whether the decoded path holds a character Go's unicode.IsPrint refuses (not a letter, mark,
 * number, punctuation, symbol or the ASCII space): Consul's go-cleanhttp PrintablePathCheckHandler
 * answers those with a bare 400, before any endpoint, so no message is expected.
 */
function unprintablePath(target: string): boolean {
  const raw = target.split('?')[0]!;
  let path: string;
  try { path = decodeURIComponent(raw); } catch { return false; }
  return /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(path);
}

/** What is wrong with an answer (empty when nothing is). `allow500` names inputs Consul itself answers 500. */
export function judge(c: FuzzCase, a: FuzzAnswer, opts: { stream: boolean; allow500: (c: FuzzCase, body: string) => boolean }): string[] {
  const problems: string[] = [];
  if (a.hung) problems.push('no answer in time (hang)');
  if (a.streamed && !opts.stream) problems.push(`answer ${a.status} never completed`);
  if (a.status === 0 && !a.hung) problems.push(`connection failed: ${a.body}`);
  if (a.status >= 500 && !(a.status === 500 && opts.allow500(c, a.body))) problems.push(`status ${a.status}`);
  if (a.status === 400 && a.body.trim() === '' && c.method !== 'HEAD' && !unprintablePath(c.path)) problems.push('a 400 without an error message');
  const leak = LEAKS.find((re) => re.test(a.body));
  if (leak) problems.push(`internal detail in the body (${leak})`);
  return problems;
}

/** A failure line that reproduces the case. */
export function describe(c: FuzzCase, a: FuzzAnswer, problems: string[]): string {
  const body = c.body === undefined ? '' : ` body=${JSON.stringify(c.body.subarray(0, 120).toString('latin1'))}${c.body.length > 120 ? `…(${c.body.length} bytes)` : ''}`;
  const path = c.path.length > 160 ? `${c.path.slice(0, 160)}…` : c.path;
  return `${c.route} [${c.label}] ${c.method} ${path}${body} → ${a.status} ${JSON.stringify(a.body.slice(0, 200))}: ${problems.join('; ')}`;
}
