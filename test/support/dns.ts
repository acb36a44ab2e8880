// DNS test helpers: `dig` against an agent, a Node resolver pointed at it, and a tiny upstream
// DNS server (dns-packet on UDP) for recursor tests.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import { Resolver } from 'node:dns/promises';
import dnsPacket, { type Answer } from 'dns-packet';

const run = promisify(execFile);

/** Parsed `dig` output: status, flags and the records of each section. */
export interface DigResult {
  status: string;
  flags: string[];
  answer: string[][];
  authority: string[][];
  additional: string[][];
  raw: string;
}

/** Runs `dig @127.0.0.1 -p port …args` and parses its sections. */
export function dig(port: number, ...args: string[]): Promise<DigResult> {
  return digAt('127.0.0.1', port, ...args);
}

/** Runs `dig @host -p port …args` and parses its sections. */
export async function digAt(host: string, port: number, ...args: string[]): Promise<DigResult> {
  const { stdout } = await run('dig', [`@${host}`, '-p', String(port), '+tries=1', '+time=2', ...args]);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? '';
  const flags = (/;; flags: ([^;]*);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/);
  const section = (title: string): string[][] => {
    const m = new RegExp(`;; ${title} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(stdout);
    return m ? m[1].split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.split(/\s+/)) : [];
  };
  return { status, flags, answer: section('ANSWER'), authority: section('AUTHORITY'), additional: section('ADDITIONAL'), raw: stdout };
}

/** A Node resolver that asks only the agent. */
export function resolverFor(port: number): Resolver {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  return r;
}

/** A UDP DNS server on `host` answering `records` by name (NXDOMAIN otherwise); `rcode` forces a failure code; `port` 0 picks a free one (a taken one rejects with EADDRINUSE). */
export async function upstream(records: Record<string, Answer[]>, rcode = 0, host = '127.0.0.1', port = 0): Promise<{ port: number; queries: number; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const state = { port: 0, queries: 0, close: () => new Promise<void>((r) => sock.close(() => r())) };
  sock.on('message', (msg, rinfo) => {
    state.queries++;
    const q = dnsPacket.decode(msg);
    const name = q.questions![0].name.toLowerCase();
    const answers = records[name] ?? [];
    const code = rcode || (answers.length ? 0 : 3);
    sock.send(dnsPacket.encode({ type: 'response', id: q.id, flags: code, questions: q.questions, answers }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => { sock.off('error', reject); resolve(); });
  });
  state.port = sock.address().port;
  return state;
}
