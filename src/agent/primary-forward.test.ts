import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import type { Forwarder, ForwardRequest } from './forward.ts';
import { callPrimary, callTimeoutMs, type PrimaryForwardDeps } from './primary-forward.ts';

// A primary that never answers (partitioned without closing its connections): a call ends only when aborted.
function silentPrimary(clock: ManualClock): { deps: PrimaryForwardDeps; sent: ForwardRequest[] } {
  const sent: ForwardRequest[] = [];
  const forwarder = {
    send: (_source: unknown, req: ForwardRequest) => new Promise((_, reject) => {
      sent.push(req);
      req.signal?.addEventListener('abort', { handleEvent: () => reject(new Error('The operation was aborted')) });
    }),
  } as unknown as Forwarder;
  const deps: PrimaryForwardDeps = {
    primary: 'dc1', clock,
    dc: { datacenter: 'dc2', nodeName: 'n', routes: { rpcAddresses: () => ['127.0.0.1:1'] }, forwarder, defaultToken: () => '' } as PrimaryForwardDeps['dc'],
  };
  return { deps, sent };
}

async function settledAfter(p: Promise<unknown>, clock: ManualClock, ms: number): Promise<{ settled: boolean; error?: Error }> {
  const out: { settled: boolean; error?: Error } = { settled: false };
  p.then(() => { out.settled = true; }, (err: Error) => { out.settled = true; out.error = err; });
  clock.advance(ms);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return out;
}

test('callPrimary: a call without a signal or timeout of its own is given up after rpc_client_timeout', async () => {
  const clock = new ManualClock();
  const { deps } = silentPrimary(clock);
  // The secondary CA's SignIntermediate call passes no signal at all.
  const p = callPrimary(deps, 'POST', '/v1/internal/rpc/connect-ca/sign-intermediate', 'secret', { body: Buffer.from('{}') });
  assert.equal((await settledAfter(p, clock, 59_000)).settled, false);
  const r = await settledAfter(p, clock, 1_001);
  assert.equal(r.settled, true);
  assert.match(r.error?.message ?? '', /rpc error making call: i\/o deadline reached/);
});

test('callPrimary: a blocking read is given up past its wait, the jitter and rpc_client_timeout', async () => {
  const clock = new ManualClock();
  const { deps } = silentPrimary(clock);
  const ctl = new AbortController();
  // The secondary CA's root watch: a blocking read aborted only when leadership ends.
  const p = callPrimary(deps, 'GET', '/v1/connect/ca/roots?index=5&wait=600000ms', '', { signal: ctl.signal });
  assert.equal(callTimeoutMs('/v1/connect/ca/roots?index=5&wait=600000ms'), 600_000 + 37_500 + 60_000);
  assert.equal((await settledAfter(p, clock, 697_000)).settled, false);
  const r = await settledAfter(p, clock, 1_000);
  assert.match(r.error?.message ?? '', /deadline reached/);
});

test('callPrimary: the caller leaving still ends the call, and a blocking read without ?wait gets the default wait', async () => {
  const clock = new ManualClock();
  const { deps, sent } = silentPrimary(clock);
  const ctl = new AbortController();
  const p = callPrimary(deps, 'GET', '/v1/acl/policies?index=3', 'r', { signal: ctl.signal });
  assert.equal(callTimeoutMs('/v1/acl/policies?index=3'), 300_000 + 18_750 + 60_000);
  assert.equal(callTimeoutMs('/v1/acl/policies?index=0&wait=5m'), 60_000);
  ctl.abort();
  const r = await settledAfter(p, clock, 0);
  assert.equal(r.settled, true);
  assert.doesNotMatch(r.error?.message ?? '', /deadline/);
  assert.equal(sent[0]?.headers['x-consul-token'], 'r');
});
