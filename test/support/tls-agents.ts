// Agents for internal RPC TLS tests on real processes: one server and client agents on their own
// loopback addresses sharing one set of ports, each with a config file `<dir>/<name>.hcl` the
// test writes (certificates, tls stanza), output kept for timeout messages; raw HTTP to an agent
// and a wait until a client knows the server from gossip.
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { spawnAgent } from './procs.ts';
import { until, type PollOptions } from './wait.ts';

/** One agent: the server bootstraps alone, clients join it. */
export interface TlsAgent { name: string; ip: string; server: boolean; child?: ChildProcess; log: string }

/** Writes `content` to `<dir>/<name>` and returns that path. */
export function writeIn(dir: string, name: string, content: string): string {
  fs.writeFileSync(path.join(dir, name), content);
  return path.join(dir, name);
}

/** Starts `a` with `<dir>/<name>.hcl` (the last 50 000 characters of output kept); clients -retry-join `join` (ip:serf port). */
export function launchTlsAgent(a: TlsAgent, dir: string, join: string): void {
  const role = a.server ? ['-server', '-bootstrap'] : ['-retry-join', join];
  a.child = spawnAgent({ node: a.name, ip: a.ip, dataDir: path.join(dir, a.name), configFile: path.join(dir, `${a.name}.hcl`), extra: role },
    (text) => { a.log = (a.log + text).slice(-50_000); });
}

/** A request to `a`'s HTTP port (10 s timeout): status and body, undefined when it fails. */
export async function agentReq(a: TlsAgent, httpPort: number, urlPath: string, init: RequestInit = {}): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(`http://${a.ip}:${httpPort}${urlPath}`, { signal: AbortSignal.timeout(10_000), ...init });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

/** Until the client `a` knows one server from gossip (its requests go somewhere), 60 s at most. */
export async function knowsServer(a: TlsAgent, httpPort: number, poll: PollOptions): Promise<void> {
  await until(`${a.name} knows the server`, 60_000, async () => {
    const self = await agentReq(a, httpPort, '/v1/agent/self');
    return self?.status === 200 && (JSON.parse(self.body) as { Stats: { consul: { known_servers: string } } }).Stats.consul.known_servers === '1';
  }, poll);
}

/**
 * Starts `server`, waits (60 s at most) until it knows a leader, then starts `clients` joining it
 * and waits until each knows the server; every agent's `.hcl` must be written already.
 */
export async function startTlsAgents(dir: string, ports: { http: number; serf: number }, server: TlsAgent, clients: TlsAgent[], poll: PollOptions): Promise<void> {
  const join = `${server.ip}:${ports.serf}`;
  launchTlsAgent(server, dir, join);
  await until(`${server.name} knows a leader`, 60_000, async () => (await agentReq(server, ports.http, '/v1/status/leader'))?.body.includes(':'), poll);
  for (const c of clients) launchTlsAgent(c, dir, join);
  for (const c of clients) await knowsServer(c, ports.http, poll);
}
