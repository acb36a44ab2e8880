// Failover: a 3-server datacenter loses a machine: SIGKILL of the leader agent and of its
// co-located etcd member at the same instant. Two topologies: `managed` (three `proconsul agent
// -server -bootstrap-expect 3` each supervising its own etcd member, the issue's setup) and
// `external` (three `-store etcd://…` agents on one separate 3-member etcd cluster, every agent
// given every endpoint). The machine lost is the worst one, where the agent leader and the etcd
// leader live together (in managed mode etcd leadership is moved there first), so both must be
// re-elected. Measured from the kills: the etcd leader re-elected, the first KV PUT acknowledged
// through a surviving agent, and the surviving agents agreeing on a new leader. Reference in the
// same run, interleaved trial by trial: raw etcd's own failover measured the same way (kill the
// etcd leader, first acknowledged `etcd3` put) at the Raft timings of the mode it is compared
// with. Every trial starts from fresh clusters. Last line: the headline ratio and the target
// (failover ≤ etcd's election + 500 ms). Mode `frozen` (not run by default) SIGSTOPs the managed
// leader's machine instead: nothing closes its connections, so followers cannot prove its
// process dead (src/leader/liveness.ts) and the new agent leader waits for its lease TTL.
//
//   npx node bench/failover.ts             # 5 trials of each (~3 min)
//   npx node bench/failover.ts --quick     # 2 trials, managed only
//   --modes managed,external,frozen   which topologies to run (default managed,external)
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../test/support/etcd.ts';
import { agentPut, agreedLeader, firstAck, kill, startHaCluster, type ServerAgent } from './support/ha-cluster.ts';
import { etcdLeaderIndex, etcdPid, freezeMachine, killMachine, moveEtcdLeader, startManagedCluster, type ManagedServer } from './support/managed-cluster.ts';
import { cpuMs, machineCpuMs, monoMs, quantile, sleep } from './support/proc.ts';

const { values: opts } = parseArgs({
  options: { trials: { type: 'string', default: '5' }, quick: { type: 'boolean', default: false }, modes: { type: 'string' } },
});
const trials = opts.quick ? 2 : Number(opts.trials);
const modes = (opts.modes ?? (opts.quick ? 'managed' : 'managed,external')).split(',');
/** A new write attempt is launched this often while the cluster recovers. */
const PROBE_EVERY_MS = 20;
const TIMEOUT_MS = 30_000;

/** One trial's timings in ms after the kill; `agentLeaderMs` only for agent trials. */
interface Trial {
  kind: 'managed' | 'frozen' | 'external' | 'etcd-default' | 'etcd-fast';
  etcdLeaderMs: number;
  firstWriteMs: number;
  agentLeaderMs?: number;
}

function progress(msg: string): void {
  process.stderr.write(msg + '\n');
}

/** A cluster that failed to start (on a shared machine, mostly a port taken between freePort() and the bind). */
class SetupError extends Error {}
let setupRetries = 0;

async function setup<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw new SetupError(`cluster start failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Runs a trial; one whose clusters failed to start is run again (twice at most), a failover that fails is not. */
async function retried(run: () => Promise<Trial>): Promise<Trial> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof SetupError) || attempt > 2) throw err;
      setupRetries++;
      progress(`${err.message}; starting the trial again`);
    }
  }
}

/** Resolves with the monotonic time at which a surviving member reports itself leader. */
async function etcdReelected(etcd: EtcdCluster, old: number): Promise<number> {
  const deadline = monoMs() + TIMEOUT_MS;
  for (;;) {
    const i = await etcd.leaderIndex().catch(() => -1);
    if (i >= 0 && i !== old) return monoMs();
    if (monoMs() > deadline) throw new Error('etcd elected no new leader');
    await sleep(5);
  }
}

/** Prints the CPU `pids` and the machine used from now until the promise it is chained to resolves. */
function cpuWindow(pids: number[]): (at: number) => number {
  const [cpu0, m0, t0] = [pids.map(cpuMs), machineCpuMs(), monoMs()];
  return (at) => {
    const m1 = machineCpuMs();
    const busy = 1 - (m1.idle - m0.idle) / (m1.total - m0.total);
    progress(`  CPU from the kill to etcd's re-election (${Math.round(at - t0)} ms): survivors ${pids.map((p, i) => Math.round(cpuMs(p) - cpu0[i])).join(' / ')} ms, machine busy ${Math.round(100 * busy)} %`);
    return at;
  };
}

/** Raw etcd with etcd's default timings (as managed members run) or the test suite's fast ones (as `external` runs). */
async function etcdTrial(kind: 'etcd-default' | 'etcd-fast'): Promise<Trial> {
  const etcd = await setup(() => startEtcd(3, kind === 'etcd-default' ? { heartbeatMs: 100, electionTimeoutMs: 1000 } : {}));
  const client = new Etcd3({ hosts: etcd.endpoints });
  try {
    await client.put('/bench-failover/warm').value('x');
    const old = await etcd.leaderIndex();
    const window = cpuWindow(etcd.members.filter((_m, i) => i !== old).map((m) => m.process!.pid!));
    const t0 = monoMs();
    const killed = etcd.kill(old);
    const elected = etcdReelected(etcd, old).then(window);
    const ack = await firstAck((n) => client.put(`/bench-failover/p${n}`).value('x').then(() => true), PROBE_EVERY_MS, TIMEOUT_MS);
    const t = { kind, etcdLeaderMs: (await elected) - t0, firstWriteMs: ack - t0 };
    await killed;
    return t;
  } finally {
    client.close();
    await etcd.stop();
  }
}

async function agentTrial(): Promise<Trial> {
  const etcd = await setup(() => startEtcd(3));
  try {
    const ha = await setup(() => startHaCluster(etcd));
    try {
      for (const a of ha.agents) await firstAck((_n, s) => agentPut(a, 'warm', s), 50, TIMEOUT_MS);
      const leaderAddr = await agreedLeader(ha.agents, '', TIMEOUT_MS);
      const leader = ha.agents.find((a) => a.server === leaderAddr)!;
      const rest = ha.agents.filter((a) => a !== leader);
      const etcdLeader = await etcd.leaderIndex();
      const t0 = monoMs();
      const killed = Promise.all([kill(leader.child), etcd.kill(etcdLeader)]);
      const elected = etcdReelected(etcd, etcdLeader);
      const agentLeader = agreedLeader(rest, leaderAddr, TIMEOUT_MS).then(() => monoMs());
      const ack = await firstAck((n, s) => agentPut(rest[n % rest.length], `p${n}`, s), PROBE_EVERY_MS, TIMEOUT_MS);
      const t: Trial = {
        kind: 'external', etcdLeaderMs: (await elected) - t0, firstWriteMs: ack - t0, agentLeaderMs: (await agentLeader) - t0,
      };
      await killed;
      return t;
    } finally {
      await ha.stop();
    }
  } finally {
    await etcd.stop();
  }
}

/** Polls until a member other than the dead machine's reports itself etcd leader; monotonic time. */
async function managedEtcdReelected(rest: ManagedServer[]): Promise<number> {
  const deadline = monoMs() + TIMEOUT_MS;
  while ((await etcdLeaderIndex(rest)) < 0) {
    if (monoMs() > deadline) throw new Error('etcd elected no new leader');
    await sleep(5);
  }
  return monoMs();
}

async function managedTrial(kind: 'managed' | 'frozen'): Promise<Trial> {
  const dc = await setup(() => startManagedCluster());
  try {
    for (const a of dc.servers) await firstAck((_n, s) => agentPut(a, 'warm', s), 50, TIMEOUT_MS);
    const leaderAddr = await agreedLeader(dc.servers, '', TIMEOUT_MS);
    const leader = dc.servers.find((a) => a.server === leaderAddr)!;
    await moveEtcdLeader(dc.servers, leader);
    const rest = dc.servers.filter((a) => a !== leader);
    const window = cpuWindow(rest.flatMap((s) => [s.child.pid!, etcdPid(s)]));
    const t0 = monoMs();
    const killed = kind === 'frozen' ? (freezeMachine(leader), Promise.resolve()) : killMachine(leader);
    const elected = managedEtcdReelected(rest).then(window);
    const agentLeader = agreedLeader(rest, leaderAddr, TIMEOUT_MS).then(() => monoMs());
    const ack = await firstAck((n, s) => agentPut(rest[n % rest.length] as ServerAgent, `p${n}`, s), PROBE_EVERY_MS, TIMEOUT_MS);
    const t: Trial = { kind, etcdLeaderMs: (await elected) - t0, firstWriteMs: ack - t0, agentLeaderMs: (await agentLeader) - t0 };
    await killed;
    return t;
  } finally {
    await dc.stop();
  }
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
const ms = (n: number | undefined) => (n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));

const started = Date.now();
const loadBefore = os.loadavg()[0];
const results: Trial[] = [];
for (let i = 0; i < trials; i++) {
  const runs = [
    ...(modes.includes('managed') || modes.includes('frozen') ? [() => etcdTrial('etcd-default')] : []),
    ...(modes.includes('managed') ? [() => managedTrial('managed')] : []),
    ...(modes.includes('frozen') ? [() => managedTrial('frozen')] : []),
    ...(modes.includes('external') ? [() => etcdTrial('etcd-fast'), agentTrial] : []),
  ];
  for (const run of runs) {
    const t = await retried(run);
    results.push(t);
    progress(`[trial ${i + 1}] ${t.kind.padEnd(9)} etcd leader ${ms(t.etcdLeaderMs)} ms, first write ${ms(t.firstWriteMs)} ms` +
      (t.agentLeaderMs === undefined ? '' : `, agent leader ${ms(t.agentLeaderMs)} ms`));
  }
}

const of = (k: Trial['kind']) => results.filter((t) => t.kind === k);
const stat = (k: Trial['kind'], f: (t: Trial) => number | undefined) => {
  const xs = of(k).map(f).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return xs.length ? `${ms(median(xs))} (${ms(xs[0])}–${ms(xs.at(-1))})` : '–';
};
const KILLED = {
  'etcd-default': 'raw etcd (100/1000 ms): its leader member', managed: 'managed: leader agent + its etcd member (etcd leader)',
  frozen: 'managed, SIGSTOP (no RST): leader agent + its etcd member (etcd leader)',
  'etcd-fast': 'raw etcd (50/500 ms): its leader member', external: 'etcd:// (50/500 ms): leader agent + etcd leader member',
};
console.log(`\nFailover bench: ${trials} trials each, interleaved; modes ${modes.join(', ')}; etcd 3.4 (managed members run etcd's ` +
  `default heartbeat/election timeout 100/1000 ms, the external cluster the test suite's 50/500 ms; each mode is compared with ` +
  `raw etcd at the same timings), data on tmpfs; probes every ${PROBE_EVERY_MS} ms; ` +
  `node ${process.version}, ${os.cpus().length} CPUs; total ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
  `1-min load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after; ${setupRetries} trial(s) restarted after a failed cluster start.`);
console.log('| trial | killed | etcd leader re-elected ms | first acknowledged write ms | new agent leader agreed ms |');
console.log('|---:|:---|---:|---:|---:|');
const perTrial = results.length / trials;
results.forEach((t, i) => console.log(`| ${Math.floor(i / perTrial) + 1} | ${KILLED[t.kind]} | ` +
  `${ms(t.etcdLeaderMs)} | ${ms(t.firstWriteMs)} | ${ms(t.agentLeaderMs)} |`));
for (const k of ['etcd-default', 'managed', 'frozen', 'etcd-fast', 'external'] as const) {
  if (!of(k).length) continue;
  console.log(`| **median (min–max)** | ${KILLED[k]} | ` + [stat(k, (t) => t.etcdLeaderMs), stat(k, (t) => t.firstWriteMs), stat(k, (t) => t.agentLeaderMs)].join(' | ') + ' |');
}
const headKind = (['managed', 'external', 'frozen'] as const).find((k) => of(k).length) ?? 'managed';
console.log('');
let head = '';
for (const k of ['managed', 'frozen', 'external'] as const) {
  if (!of(k).length) continue;
  const etcdWrite = median(of(k === 'external' ? 'etcd-fast' : 'etcd-default').map((t) => t.firstWriteMs));
  const write = median(of(k).map((t) => t.firstWriteMs));
  const leader = median(of(k).map((t) => t.agentLeaderMs!));
  const verdict = (x: number) => `+${ms(x - etcdWrite)} ms, ${x - etcdWrite <= 500 ? 'met' : 'MISSED'}`;
  const label = k === 'frozen' ? 'frozen (lease TTL path, not the kill -9 target)' : k;
  console.log(`target (${label}): failover ≤ etcd's own + 500 ms (etcd ${ms(etcdWrite)} ms): first write ${ms(write)} ms (${verdict(write)}); ` +
    `new agent leader ${ms(leader)} ms (${verdict(leader)})`);
  if (k === headKind) {
    head = `ratio: ${k} proconsul/etcd failover (median ms to first acknowledged write) = ${(write / etcdWrite).toFixed(2)}; ` +
      `+${ms(write - etcdWrite)} ms (target ≤ +500); new agent leader after ${ms(leader)} ms (+${ms(leader - etcdWrite)} ms)`;
  }
}
console.log(head);
