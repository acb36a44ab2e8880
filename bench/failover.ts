// Failover: a 3-server datacenter (three `proconsul agent -server -store etcd://…` processes on
// one 3-member etcd cluster) loses a machine: SIGKILL of the leader agent and of its co-located
// etcd member at the same instant. The machine lost is the worst one, where the agent leader and
// the etcd leader live together, so both must be re-elected. Measured from the kills: the etcd
// leader re-elected, the first KV PUT acknowledged through a surviving agent, and the surviving
// agents agreeing on a new leader. Reference in the same run, interleaved trial by trial: raw
// etcd's own failover measured the same way (kill the etcd leader, first acknowledged `etcd3`
// put). Every trial starts from fresh clusters. Last line: the headline ratio and the target
// (failover ≤ etcd's election + 500 ms).
//
//   npx node bench/failover.ts             # 5 trials of each (~1.5 min)
//   npx node bench/failover.ts --trials 2  # smoke run
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../test/support/etcd.ts';
import { agentPut, agreedLeader, firstAck, kill, startHaCluster } from './support/ha-cluster.ts';
import { monoMs, quantile, sleep } from './support/proc.ts';

const { values: opts } = parseArgs({ options: { trials: { type: 'string', default: '5' }, quick: { type: 'boolean', default: false } } });
const trials = opts.quick ? 2 : Number(opts.trials);
/** A new write attempt is launched this often while the cluster recovers. */
const PROBE_EVERY_MS = 20;
const TIMEOUT_MS = 30_000;

/** One trial's timings in ms after the kill; `agentLeaderMs` only for agent trials. */
interface Trial {
  kind: 'proconsul' | 'etcd';
  etcdLeaderMs: number;
  firstWriteMs: number;
  agentLeaderMs?: number;
}

function progress(msg: string): void {
  process.stderr.write(msg + '\n');
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

async function etcdTrial(): Promise<Trial> {
  const etcd = await startEtcd(3);
  const client = new Etcd3({ hosts: etcd.endpoints });
  try {
    await client.put('/bench-failover/warm').value('x');
    const old = await etcd.leaderIndex();
    const t0 = monoMs();
    const killed = etcd.kill(old);
    const elected = etcdReelected(etcd, old);
    const ack = await firstAck((n) => client.put(`/bench-failover/p${n}`).value('x').then(() => true), PROBE_EVERY_MS, TIMEOUT_MS);
    const t = { kind: 'etcd' as const, etcdLeaderMs: (await elected) - t0, firstWriteMs: ack - t0 };
    await killed;
    return t;
  } finally {
    client.close();
    await etcd.stop();
  }
}

async function agentTrial(): Promise<Trial> {
  const etcd = await startEtcd(3);
  try {
    const ha = await startHaCluster(etcd);
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
        kind: 'proconsul', etcdLeaderMs: (await elected) - t0, firstWriteMs: ack - t0, agentLeaderMs: (await agentLeader) - t0,
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

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
const ms = (n: number | undefined) => (n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));

const started = Date.now();
const loadBefore = os.loadavg()[0];
const results: Trial[] = [];
for (let i = 0; i < trials; i++) {
  for (const run of [etcdTrial, agentTrial]) {
    const t = await run();
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
console.log(`\nFailover bench: ${trials} trials each, interleaved; 3-member etcd 3.4 (heartbeat 50 ms, election timeout 500 ms, ` +
  `data on tmpfs), probes every ${PROBE_EVERY_MS} ms; node ${process.version}, ${os.cpus().length} CPUs; ` +
  `total ${((Date.now() - started) / 1000).toFixed(0)} s; 1-min load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after.`);
console.log('| trial | killed | etcd leader re-elected ms | first acknowledged write ms | new agent leader agreed ms |');
console.log('|---:|:---|---:|---:|---:|');
results.forEach((t, i) => console.log(`| ${Math.floor(i / 2) + 1} | ${t.kind === 'etcd' ? 'etcd leader member' : 'leader agent + its etcd member (etcd leader)'} | ` +
  `${ms(t.etcdLeaderMs)} | ${ms(t.firstWriteMs)} | ${ms(t.agentLeaderMs)} |`));
console.log('| **median (min–max)** | etcd only | ' + [stat('etcd', (t) => t.etcdLeaderMs), stat('etcd', (t) => t.firstWriteMs), '–'].join(' | ') + ' |');
console.log('| **median (min–max)** | proconsul | ' + [stat('proconsul', (t) => t.etcdLeaderMs), stat('proconsul', (t) => t.firstWriteMs),
  stat('proconsul', (t) => t.agentLeaderMs)].join(' | ') + ' |');
const etcdWrite = median(of('etcd').map((t) => t.firstWriteMs));
const agentWrite = median(of('proconsul').map((t) => t.firstWriteMs));
const agentLeader = median(of('proconsul').map((t) => t.agentLeaderMs!));
const over = agentWrite - etcdWrite;
console.log(`\ntarget: first write through a surviving agent ≤ etcd's own + 500 ms: ${ms(agentWrite)} vs ${ms(etcdWrite)} ms ` +
  `(+${ms(over)} ms, ${over <= 500 ? 'met' : 'MISSED'}); new agent leader ${ms(agentLeader)} ms (+${ms(agentLeader - etcdWrite)} ms, ` +
  `${agentLeader - etcdWrite <= 500 ? 'met' : 'MISSED'})`);
console.log(`ratio: proconsul/etcd failover (median ms to first acknowledged write) = ${(agentWrite / etcdWrite).toFixed(2)}; ` +
  `+${ms(over)} ms (target ≤ +500); new agent leader after ${ms(agentLeader)} ms`);
