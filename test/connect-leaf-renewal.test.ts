// A blocking GET /v1/agent/connect/ca/leaf/<service>?index= on a dev agent driven by a manual
// clock: it answers when the agent renews the leaf in its soft-expiry window (no waiting for
// real time), with a new certificate, a higher X-Consul-Index, and still chaining to the root.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ManualClock } from '../src/clock.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

const HOUR = 3_600_000;
const clock = new ManualClock(Date.now());
let dev: DevAgent;

before(async () => {
  dev = await startDevAgent({
    config: { connect: { enabled: true, caProvider: 'consul', caConfig: { LeafCertTTL: '2h' } } },
    deps: { clock, random: () => 0.5 },
  });
});
after(() => dev?.stop());

test('a blocking read answers the renewed leaf once the clock passes the soft-expiry point', async () => {
  const first = await fetch(`http://${dev.httpAddr}/v1/agent/connect/ca/leaf/web`);
  assert.equal(first.status, 200);
  const a = await first.json() as { SerialNumber: string; ModifyIndex: number; CertPEM: string };
  // random() = 0.5: renewal at 75% of the 2 h life, which began a drift minute before signing
  // (1 h 29 min from now). Blocking reads wait at most 10 minutes, so move close first.
  clock.advance(HOUR + 25 * 60_000);
  const blocked = fetch(`http://${dev.httpAddr}/v1/agent/connect/ca/leaf/web?index=${a.ModifyIndex}&wait=10m`, { signal: AbortSignal.timeout(20_000) });
  let settled = false;
  void blocked.then(() => { settled = true; });
  await new Promise((r) => setTimeout(r, 300));
  clock.advance(2 * 60_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(settled, false, 'answered before the renewal');
  clock.advance(3 * 60_000);
  const res = await blocked;
  assert.equal(res.status, 200);
  const b = await res.json() as { SerialNumber: string; ModifyIndex: number; CertPEM: string };
  assert.notEqual(b.SerialNumber, a.SerialNumber);
  assert.ok(b.ModifyIndex > a.ModifyIndex);
  assert.equal(res.headers.get('x-consul-index'), String(b.ModifyIndex));
  const roots = await (await fetch(`http://${dev.httpAddr}/v1/connect/ca/roots`)).json() as { Roots: { Active: boolean; RootCert: string }[] };
  assert.ok(new X509Certificate(b.CertPEM).verify(new X509Certificate(roots.Roots.find((r) => r.Active)!.RootCert).publicKey));
});
