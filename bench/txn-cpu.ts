// CPU per /v1/txn catalog evaluation in the default tenant (Node set, Service set, Check set,
// Service get over 2,000 registered nodes), in-process: evaluateTxn only, no HTTP or commit.
// Usage: npx node bench/txn-cpu.ts [rounds] <tree>... — each round runs every tree in a child
// process (order alternating) and prints its CPU per evaluation; trees are checkouts of this repo
// (an older one needs node_modules linked in).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const N = 100_000;

async function child(root: string): Promise<void> {
  const { ManualClock } = await import(`${root}/src/clock.ts`);
  const { silentLogger } = await import(`${root}/src/log.ts`);
  const { MemoryStore } = await import(`${root}/src/store/memory/memory.ts`);
  const { Replica, encodeRecord } = await import(`${root}/src/state/index.ts`);
  const { evaluateTxn } = await import(`${root}/src/endpoint/txn-evaluate.ts`);
  const store = new MemoryStore();
  const success = [];
  for (let i = 0; i < 2000; i++) {
    success.push({ type: 'put', key: `catalog/node/n${i}`, value: encodeRecord({ ID: '', Node: `n${i}`, Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: null, Meta: null }) });
    success.push({ type: 'put', key: `catalog/service/n${i}/web`, value: encodeRecord({
      ID: 'web', Service: 'web', Tags: null, Address: '', TaggedAddresses: null, Meta: null, Port: 80, Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false, Proxy: { Mode: '', MeshGateway: {}, Expose: {} }, Connect: {}, PeerName: '', Datacenter: 'dc1',
    }) });
  }
  await store.txn({ success });
  const replica = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  await replica.start();
  const deps = { replica, config: { datacenter: 'dc1' }, random: Math.random };
  const ops = (i: number) => [
    { Node: { Verb: 'set', Node: { Node: `n${i}`, Address: '10.0.0.2' } } },
    { Service: { Verb: 'set', Node: `n${i}`, Service: { ID: 'web', Service: 'web', Port: 81 } } },
    { Check: { Verb: 'set', Check: { Node: `n${i}`, CheckID: 'c', ServiceID: 'web', Status: 'passing' } } },
    { Service: { Verb: 'get', Node: `n${i}`, Service: { ID: 'web' } } },
  ];
  for (let i = 0; i < 20_000; i++) evaluateTxn(deps, ops(i % 2000), undefined);
  const t = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const ev = evaluateTxn(deps, ops(i % 2000), undefined);
    if (ev.errors.length) throw new Error(JSON.stringify(ev.errors));
  }
  const u = process.cpuUsage(t);
  console.log(((u.user + u.system) / N).toFixed(2));
  process.exit(0);
}

if (process.env.TXN_CPU_CHILD) await child(process.env.TXN_CPU_CHILD);
else {
  const args = process.argv.slice(2);
  const rounds = /^\d+$/.test(args[0] ?? '') ? Number(args.shift()) : 3;
  const trees = (args.length ? args : ['.']).map((t) => resolve(t));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...trees].reverse() : trees;
    for (const tree of order) {
      const res = spawnSync(process.execPath, [process.argv[1]], { env: { ...process.env, TXN_CPU_CHILD: tree }, encoding: 'utf8' });
      if (res.status !== 0) throw new Error(res.stderr);
      console.log(`round ${r + 1} ${tree}: ${res.stdout.trim()} µs CPU per 4-op txn evaluation`);
    }
  }
}
