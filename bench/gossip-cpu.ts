// Gossip CPU per UDP datagram for one or more source trees, interleaved: each round starts, for
// each tree in turn, a child process running two gossip nodes of that tree joined over real
// sockets on 127.0.0.1, probing every 2 ms and firing a user event every 2 ms (so broadcasts ride
// the gossip rounds), and instrumented as an agent instruments its pool when the tree has
// memberlist's metrics (src/agent/memberlist-metrics.ts). After a warm-up the child measures its
// own CPU (process.cpuUsage) over `seconds` and divides it by the datagrams both nodes sent
// (counted by wrapping dgram's send, the same in every tree). Median over rounds.
// Usage: node bench/gossip-cpu.ts [seconds=3] [rounds=5] [tree...] (default: this tree)
// GOSSIP_CPU_PROF=DIR writes each child's --cpu-prof profile into DIR.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const WARMUP_MS = 1000;

if (process.argv[2] === '--child') await child(process.argv[3], Number(process.argv[4]));
else await parent();

async function parent(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 3);
  const rounds = Number(process.argv[3] ?? 5);
  const here = path.dirname(import.meta.dirname);
  const trees = process.argv.length > 4 ? process.argv.slice(4) : [here];
  const us = new Map<string, number[]>(trees.map((t) => [t, []]));
  for (let r = 0; r < rounds; r++) {
    // Alternate the order each round, so neither tree always runs first.
    const order = r % 2 === 0 ? trees : [...trees].reverse();
    for (const tree of order) {
      const out = await runChild(tree, seconds);
      us.get(tree)!.push(out.usPerDatagram);
      console.log(`round ${r + 1} ${path.basename(tree)}: ${out.usPerDatagram.toFixed(2)} µs CPU per datagram (${out.datagrams} datagrams, ${out.cpuMs.toFixed(0)} ms CPU)`);
    }
  }
  for (const [tree, xs] of us) {
    const sorted = [...xs].sort((a, b) => a - b);
    console.log(`${tree}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} µs CPU per datagram over ${xs.length} rounds`);
  }
}

function runChild(tree: string, seconds: number): Promise<{ usPerDatagram: number; datagrams: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const prof = process.env.GOSSIP_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.GOSSIP_CPU_PROF}`] : [];
    const c = spawn(process.execPath, [...prof, import.meta.filename, '--child', tree, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    c.stdout.on('data', (d: Buffer) => { text += d.toString(); });
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text.trim().split('\n').pop()!)) : reject(new Error(`child exited ${code}`))));
  });
}

async function child(tree: string, seconds: number): Promise<void> {
  let datagrams = 0;
  const send = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
    datagrams++;
    return (send as (...a: unknown[]) => void).apply(this, args);
  } as typeof send;
  const imp = (rel: string) => import(pathToFileURL(path.join(tree, rel)).href);
  const g = await imp('src/gossip/index.ts');
  const { Telemetry } = await imp('src/telemetry/metrics.ts');
  const { systemClock } = await imp('src/clock.ts');
  let instrument: ((t: unknown, network: string, node: unknown, clock: unknown) => void) | undefined;
  try {
    instrument = (await imp('src/agent/memberlist-metrics.ts')).memberlistMetrics;
  } catch { /* a tree without memberlist's metrics */ }
  const telemetry = new Telemetry(systemClock);
  const cfg = (name: string) => ({
    name, bindAddr: '127.0.0.1', bindPort: 0, probeIntervalMs: 2, probeTimeoutMs: 1, gossipIntervalMs: 2, pushPullIntervalMs: 60_000,
  });
  const a = g.createGossip(cfg('a'));
  const b = g.createGossip(cfg('b'));
  // The clock is the gossip nodes' own (node.instances reads members' state-change times in it).
  instrument?.(telemetry, 'lan', a, systemClock);
  instrument?.(telemetry, 'lan', b, systemClock);
  await a.start();
  await b.start();
  await b.join([`127.0.0.1:${a.localMember().port}`]);
  let n = 0;
  const fire = setInterval(() => a.userEvent(`e${n++ % 8}`, 'payload'), 2);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const d0 = datagrams;
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const c1 = process.cpuUsage(c0);
  const d = datagrams - d0;
  clearInterval(fire);
  // Read the metrics once, so batched samples are not left unflushed (and a broken family shows).
  if (instrument) await telemetry.prometheus();
  await a.shutdown();
  await b.shutdown();
  const cpuMs = (c1.user + c1.system) / 1000;
  console.log(JSON.stringify({ usPerDatagram: (cpuMs * 1000) / d, datagrams: d, cpuMs }));
  process.exit(0);
}
