// A managed datacenter of real `proconsul agent -server` processes (each supervising its etcd
// member) on 127.0.0.1 with data dirs on tmpfs, for autopilot tests: prepare a server's ports
// and config file, launch it joining others, kill it (agent and etcd) like a machine loss, poll.
// Each agent's output goes to a log file; a failed or timed-out test prints their tails.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { AgentLogs, processState, testFailed } from './agent-logs.ts';
import { etcdBinary, freePort } from './etcd.ts';
import { getJson, until } from './wait.ts';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'proconsul.js');

/** A prepared server: addresses, data dir and config file. */
export interface PreparedServer {
  node: string;
  cfg: string;
  http: string;
  server: string;
  serf: string;
  etcdClient: string;
  dataDir: string;
}

/** A launched server. */
export interface ManagedServer extends PreparedServer {
  child: ChildProcess;
}

/** Raft configuration as /v1/operator/raft/configuration answers. */
export interface RaftConfig { Servers: { ID: string; Node: string; Leader: boolean; Voter: boolean }[] }

/** Polling helpers, re-exported for the tests built on this datacenter. */
export { getJson, until };

/** Servers started by one test file, torn down by stop(). */
export class ManagedDc {
  readonly dir: string;
  /** Each agent's output; removed by stop() unless a test failed or AUTOPILOT_TEST_LOG is set. */
  readonly logs: AgentLogs;
  readonly servers: ManagedServer[] = [];

  constructor(name: string) {
    etcdBinary();
    const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    this.dir = fs.mkdtempSync(path.join(base, `proconsul-${name}-`));
    this.logs = new AgentLogs(name, Boolean(process.env.AUTOPILOT_TEST_LOG));
  }

  /** Free ports and a config file (`extra` merged into it: node_meta, autopilot, read_replica…). */
  async prepare(node: string, extra: Record<string, unknown> = {}): Promise<PreparedServer> {
    const [http, server, serf, serfWan, client, peer] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freePort()));
    const cfg = path.join(this.dir, `${node}.json`);
    fs.writeFileSync(cfg, JSON.stringify({
      ports: { http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: serf, serf_wan: serfWan, server },
      managed_etcd: { client_port: client, peer_port: peer },
      ...extra,
    }));
    return { node, cfg, http: `http://127.0.0.1:${http}`, server: `127.0.0.1:${server}`, serf: `127.0.0.1:${serf}`, etcdClient: `http://127.0.0.1:${client}`, dataDir: path.join(this.dir, node) };
  }

  /**
   * Starts `proconsul agent -server -bootstrap-expect N` joining `peers`, its output appended to
   * its log (logs.file(node)) at level info (AUTOPILOT_TEST_LOG=debug: debug, and the logs are kept).
   */
  launch(p: PreparedServer, peers: PreparedServer[], expect: number): ManagedServer {
    const join = peers.flatMap((x) => ['-retry-join', x.server, '-retry-join', x.serf]);
    const out = this.logs.open(p.node, `(server ${p.server}, etcd ${p.etcdClient})`);
    const child = spawn(process.execPath, [BIN, 'agent', '-server', '-bootstrap-expect', String(expect), '-node', p.node, '-bind', '127.0.0.1',
      '-client', '127.0.0.1', '-data-dir', p.dataDir, '-config-file', p.cfg, '-log-level', process.env.AUTOPILOT_TEST_LOG ?? 'info', ...join],
    { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const s = { ...p, child };
    this.servers.push(s);
    return s;
  }

  /**
   * Stops the datacenter when test `t` ends (also on a timeout, while its body may still run);
   * first, when `t` failed, prints the tail of each agent's log to stderr and keeps the logs.
   */
  stopAfter(t: TestContext): void {
    t.after(async () => {
      if (testFailed(t)) this.logs.report(`test "${t.name}" failed`, this.servers);
      await this.stop();
    });
  }

  /** SIGKILL of the agent and its etcd member: a machine loss. */
  killHard(s: ManagedServer): void {
    let pid = 0;
    try {
      pid = Number(fs.readFileSync(path.join(s.dataDir, 'etcd', 'etcd.pid'), 'utf8'));
    } catch { /* no member */ }
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
    if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }

  /**
   * The leader address every one of `among` agrees on, other than `not` (a killed leader, which
   * the survivors keep naming until its election lease runs out); a timeout says what each
   * answered last.
   */
  agreedLeader(among: ManagedServer[], ms = 30_000, not = ''): Promise<string> {
    let seen: (string | undefined)[] = [];
    return until('one agreed leader', ms, async () => {
      seen = await Promise.all(among.map((s) => getJson<string>(`${s.http}/v1/status/leader`)));
      return seen[0] && seen[0] !== not && seen.every((x) => x === seen[0]) ? seen[0] : undefined;
    }, { every: 50, context: () => `last answers: ${among.map((s, i) => `${s.node}=${JSON.stringify(seen[i] ?? null)} (${processState(s.child)})`).join(' ')}` });
  }

  /** SIGTERM everyone (SIGKILL after 8 s), kill leftover etcd members, remove the data; once more does nothing. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map(async (s) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
      const exited = new Promise((r) => s.child.once('exit', r));
      s.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
    }));
    for (const s of this.servers) this.killHard(s);
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.logs.remove();
  }
}
