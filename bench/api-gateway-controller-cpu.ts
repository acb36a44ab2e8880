// CPU of one API gateway controller pass (leader duty) over G gateways, R http-routes (two services each) and S service-defaults:
// the first pass (every status and bound entry written) and settled passes (nothing to write).
// Usage: npx node bench/api-gateway-controller-cpu.ts [G] [R] [S]
import { ManualClock } from '../src/clock.ts';
import { silentLogger } from '../src/log.ts';
import { MemoryStore } from '../src/store/memory/memory.ts';
import { Replica, configEntryStoreKey, encodeRecord } from '../src/state/index.ts';
import { plannedWrites, reconcileApiGateways } from '../src/leader/api-gateway-controller.ts';
const store = new MemoryStore();
const clock = new ManualClock();
const replica = new Replica({ store, clock, logger: silentLogger() });
await replica.start();
const G = Number(process.argv[2] ?? 50), R = Number(process.argv[3] ?? 500), S = Number(process.argv[4] ?? 5000);
const ops: any[] = [];
const put = (e: any) => ops.push({ type: 'put', key: configEntryStoreKey(undefined, e.Kind, e.Name), value: encodeRecord(e) });
put({ Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } });
for (let i = 0; i < S; i++) put({ Kind: 'service-defaults', Name: `svc${i}`, Protocol: 'http' });
for (let i = 0; i < G; i++) put({ Kind: 'api-gateway', Name: `gw${i}`, Listeners: [{ Name: 'web', Port: 8080, Protocol: 'http' }], Status: { Conditions: null } });
for (let i = 0; i < R; i++) put({ Kind: 'http-route', Name: `r${i}`, Parents: [{ Kind: 'api-gateway', Name: `gw${i % G}` }], Rules: [{ Services: [{ Name: `svc${i}` }, { Name: `svc${i + 1}` }] }], Status: { Conditions: null } });
for (let i = 0; i < ops.length; i += 500) { const r = await store.txn({ compares: [], success: ops.slice(i, i + 500) }); await replica.waitFor(r.revision); }
const deps = { store, replica, clock, logger: silentLogger() };
let c0 = process.cpuUsage();
const n = await reconcileApiGateways(deps);
let c1 = process.cpuUsage(c0);
console.log('first pass writes', n, 'cpu ms', (c1.user + c1.system) / 1000);
for (let k = 0; k < 3; k++) {
  c0 = process.cpuUsage();
  const w = plannedWrites(replica, clock.now()).length;
  c1 = process.cpuUsage(c0);
  console.log('settled pass planned', w, 'cpu ms', (c1.user + c1.system) / 1000);
}
replica.stop();
