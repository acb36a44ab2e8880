// Load-generator child of bench/fanout.ts (started with fork, driven over IPC): opens one
// long-poll GET per watcher on its own connection, records when each response has fully
// arrived (CLOCK_MONOTONIC ms, comparable across processes), and reports per group. Several of
// these share the watchers so no process needs more open files than its limit allows.
//
// Messages in: {type:'open', host, port, localAddresses, watchers:[{path, group}], notify:{group:n}}
//              {type:'report'}  {type:'close'}
// Messages out: {type:'opened', n, errors}  {type:'group-done', group}  {type:'report', ...Report}
import http from 'node:http';
import { monoMs } from './proc.ts';

/** One watcher: the request path (with index and wait) and the group it is counted in. */
export interface WatcherSpec {
  path: string;
  group: string;
}

/** What a generator reports: arrival times per group (ms, monotonic), statuses and errors. */
export interface Report {
  arrivals: Record<string, number[]>;
  statuses: Record<string, number>;
  errors: string[];
}

interface OpenMsg {
  type: 'open';
  host: string;
  port: number;
  localAddresses: string[];
  watchers: WatcherSpec[];
  notify: Record<string, number>;
}

const report: Report = { arrivals: {}, statuses: {}, errors: [] };
let agent: http.Agent | null = null;
const send = (m: object): void => { process.send!(m); };

function open(msg: OpenMsg): Promise<void> {
  agent = new http.Agent({ keepAlive: true, maxSockets: msg.watchers.length, maxFreeSockets: 0 });
  const left = { ...msg.notify };
  const BATCH = 250;
  let i = 0;
  const one = (w: WatcherSpec, localAddress: string): Promise<void> => new Promise((connected) => {
    const req = http.request({ agent: agent!, host: msg.host, port: msg.port, path: w.path, localAddress }, (res) => {
      res.resume();
      res.on('end', () => {
        const t = monoMs();
        (report.arrivals[w.group] ??= []).push(t);
        const k = `${w.group} ${res.statusCode}`;
        report.statuses[k] = (report.statuses[k] ?? 0) + 1;
        if (left[w.group] !== undefined && --left[w.group] === 0) send({ type: 'group-done', group: w.group });
      });
    });
    req.on('error', (e) => { if (report.errors.length < 20) report.errors.push(`${w.path}: ${e.message}`); connected(); });
    req.on('socket', (s) => { if (s.connecting) s.once('connect', () => connected()); else connected(); });
    req.end();
  });
  return (async () => {
    while (i < msg.watchers.length) {
      const batch = msg.watchers.slice(i, i + BATCH).map((w, k) => one(w, msg.localAddresses[(i + k) % msg.localAddresses.length]));
      i += BATCH;
      await Promise.all(batch);
    }
  })();
}

process.on('message', (m: { type: string }) => {
  if (m.type === 'open') {
    void open(m as OpenMsg).then(() => send({ type: 'opened', n: (m as OpenMsg).watchers.length, errors: report.errors.length }));
  } else if (m.type === 'report') {
    send({ type: 'report', ...report });
  } else if (m.type === 'close') {
    agent?.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
