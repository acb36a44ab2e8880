// Output of bench/kv.ts: the agent table (HTTP beside Store-direct per backend, and against the
// bare node:http ceiling), the bare node:http table, the raw-etcd table (etcd3 client on a single
// member and a 3-member cluster) and the target ratios, the last of which is the bench's
// headline line.
import type { CellResult } from './load.ts';

/** One agent cell pair: the same op over HTTP (agent child) and on a Store in the bench process. */
export interface AgentRow {
  backend: string;
  clients: number;
  op: 'PUT' | 'GET' | 'GET ?stale';
  direct: CellResult;
  http: CellResult;
}

/** One raw-etcd cell: `op` through the etcd3 client against `cluster`. */
export interface EtcdRow {
  cluster: '1 member' | '3 members';
  clients: number;
  op: 'PUT' | 'GET' | 'GET serializable';
  r: CellResult;
}

/** One cell of the bare node:http server (bench/support/bare-http.ts). */
export interface BareRow {
  clients: number;
  op: 'PUT' | 'GET';
  r: CellResult;
}

/** The bare node:http cell an agent cell compares with (`?stale` against the plain GET). */
function bareOf(bare: BareRow[], r: AgentRow): BareRow | undefined {
  const op = r.op === 'PUT' ? 'PUT' : 'GET';
  return bare.find((b) => b.clients === r.clients && b.op === op);
}

function fmtUs(n: number | undefined): string {
  return n === undefined ? 'n/a' : n.toFixed(1);
}

/** Ops/s with thousands separators. */
export function fmtRate(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Milliseconds with two decimals under 10 ms, one above. */
export function fmtMs(n: number): string {
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}

function markdown(head: string[], body: string[][], textCols: number): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i < textCols ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i < textCols ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(head), sep, ...body.map(line)].join('\n');
}

/**
 * The agent table: direct and HTTP figures side by side with their ratio, the agent's CPU per
 * request, and (with `bare` cells) the ratio to the bare node:http server at the same load.
 */
export function agentTable(rows: AgentRow[], bare: BareRow[] = []): string {
  const head = ['backend', 'clients', 'op', 'direct ops/s', 'p50 ms', 'p99 ms', 'HTTP ops/s', 'p50 ms', 'p99 ms', 'HTTP/direct', 'agent µs/req'];
  if (bare.length) head.push('HTTP/bare');
  return markdown(head, rows.map((r) => {
    const b = bareOf(bare, r);
    const cells = [
      r.backend, String(r.clients), r.op,
      fmtRate(r.direct.opsPerSec), fmtMs(r.direct.p50), fmtMs(r.direct.p99),
      fmtRate(r.http.opsPerSec), fmtMs(r.http.p50), fmtMs(r.http.p99),
      (r.http.opsPerSec / r.direct.opsPerSec).toFixed(2), fmtUs(r.http.cpuUs),
    ];
    if (bare.length) cells.push(b ? (r.http.opsPerSec / b.r.opsPerSec).toFixed(2) : 'n/a');
    return cells;
  }), 3);
}

/** The bare node:http table: the ceiling of any Node HTTP server on this host and load client. */
export function bareTable(rows: BareRow[]): string {
  const head = ['bare node:http', 'clients', 'op', 'ops/s', 'p50 ms', 'p99 ms', 'server µs/req'];
  return markdown(head, rows.map((r) => [
    'fixed answer', String(r.clients), r.op, fmtRate(r.r.opsPerSec), fmtMs(r.r.p50), fmtMs(r.r.p99), fmtUs(r.r.cpuUs),
  ]), 3);
}

/** The raw-etcd table. */
export function etcdTable(rows: EtcdRow[]): string {
  const head = ['etcd3 client on', 'clients', 'op', 'ops/s', 'p50 ms', 'p99 ms'];
  return markdown(head, rows.map((r) => [
    r.cluster, String(r.clients), r.op, fmtRate(r.r.opsPerSec), fmtMs(r.r.p50), fmtMs(r.r.p99),
  ]), 3);
}

/** The targets at `clients` (64 when measured), one line each; the last is the headline. */
export function targetLines(agent: AgentRow[], etcd: EtcdRow[], clients: number, backend = 'embedded', bare: BareRow[] = []): string[] {
  const a = (op: AgentRow['op']) => agent.find((r) => r.backend === backend && r.clients === clients && r.op === op);
  const e = (op: EtcdRow['op']) => etcd.find((r) => r.cluster === '1 member' && r.clients === clients && r.op === op);
  const ratio = (x: number | undefined, y: number | undefined) => (x && y ? (x / y).toFixed(2) : 'n/a');
  const mark = (x: string, min: number) => (x === 'n/a' ? '' : Number(x) >= min ? ' met' : ' MISSED');
  const putEtcd = ratio(a('PUT')?.http.opsPerSec, e('PUT')?.r.opsPerSec);
  const getEtcd = ratio(a('GET')?.http.opsPerSec, e('GET')?.r.opsPerSec);
  const staleEtcd = ratio(a('GET ?stale')?.http.opsPerSec, e('GET serializable')?.r.opsPerSec);
  const putDirect = ratio(a('PUT')?.http.opsPerSec, a('PUT')?.direct.opsPerSec);
  const getDirect = ratio(a('GET')?.http.opsPerSec, a('GET')?.direct.opsPerSec);
  const b = (op: BareRow['op']) => bare.find((r) => r.clients === clients && r.op === op)?.r;
  const ceiling = bare.length ? [
    `reference: ${backend} HTTP / bare node:http at ${clients} clients: PUT = ${ratio(a('PUT')?.http.opsPerSec, b('PUT')?.opsPerSec)}, ` +
      `GET = ${ratio(a('GET')?.http.opsPerSec, b('GET')?.opsPerSec)}, ?stale = ${ratio(a('GET ?stale')?.http.opsPerSec, b('GET')?.opsPerSec)}; ` +
      `server CPU µs/req agent vs bare: PUT ${fmtUs(a('PUT')?.http.cpuUs)} vs ${fmtUs(b('PUT')?.cpuUs)}, ` +
      `GET ${fmtUs(a('GET')?.http.cpuUs)} vs ${fmtUs(b('GET')?.cpuUs)}`,
  ] : [];
  return [
    ...ceiling,
    `target: ${backend} HTTP PUT / etcd3 single-member PUT at ${clients} clients = ${putEtcd} (≥ 1.0${mark(putEtcd, 1)})`,
    `target: ${backend} HTTP GET / etcd3 single-member GET at ${clients} clients = ${getEtcd} (≥ 2.0${mark(getEtcd, 2)}); ` +
      `?stale / serializable = ${staleEtcd}`,
    `target: ${backend} HTTP / Store-direct at ${clients} clients: PUT = ${putDirect} (≥ 0.5${mark(putDirect, 0.5)}), ` +
      `GET = ${getDirect} (≥ 0.5${mark(getDirect, 0.5)})`,
    `ratio: ${backend} HTTP PUT/etcd3 PUT at ${clients} clients = ${putEtcd} (target ≥ 1.0); GET/etcd3 GET = ${getEtcd} (≥ 2.0); ` +
      `HTTP/direct PUT = ${putDirect}, GET = ${getDirect} (≥ 0.5)` +
      (bare.length ? `; HTTP/bare node:http PUT = ${ratio(a('PUT')?.http.opsPerSec, b('PUT')?.opsPerSec)}, GET = ${ratio(a('GET')?.http.opsPerSec, b('GET')?.opsPerSec)}` : ''),
  ];
}
