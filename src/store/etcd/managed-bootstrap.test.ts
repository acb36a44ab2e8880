import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { bootstrapServer, planCluster, planRetryMs, type PeerInfo } from './managed-bootstrap.ts';
import { ClosedError } from '../../errors.ts';

const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const peer = (name: string): PeerInfo => ({
  Name: name, Datacenter: 'dc1', PeerURL: `http://127.0.0.1:1/${name}`, ClientURL: `http://127.0.0.1:2/${name}`, Member: false,
});

/** A bootstrap endpoint answering as `name`, but only once `up()` says so (503 before: not started). */
async function endpoint(name: string, up: () => boolean): Promise<{ target: string; srv: Server }> {
  const srv = bootstrapServer({
    info: () => { if (!up()) throw new Error('not up'); return peer(name); },
    admit: () => Promise.reject(new Error('no member')),
  }, logger);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { target: `127.0.0.1:${(srv.address() as AddressInfo).port}`, srv };
}

test('planning rounds wait 200 ms, then twice as long each time up to the bound (1 s unless retryMs)', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 50].map((r) => planRetryMs(r)), [200, 400, 800, 1000, 1000, 1000]);
  assert.deepEqual([0, 1, 2].map((r) => planRetryMs(r, 300)), [200, 300, 300]);
  assert.equal(planRetryMs(0, 50), 50);
});

test('servers started together bootstrap after the first short wait, not a whole second later', async () => {
  let started = false;
  const others = await Promise.all(['s2', 's3'].map((n) => endpoint(n, () => started)));
  const waits: number[] = [];
  try {
    const plan = await planCluster({
      self: peer('s1'), targets: others.map((o) => o.target), expect: 3, logger, closed: () => false, tls: null,
      // The other servers come up while the first round's wait runs.
      sleep: async (ms) => { waits.push(ms); started = true; },
    });
    assert.equal(plan.spec?.state, 'new');
    assert.equal(plan.spec?.initialCluster, ['s1', 's2', 's3'].map((n) => `${n}=http://127.0.0.1:1/${n}`).join(','));
    assert.deepEqual(waits, [200]);
  } finally {
    for (const o of others) o.srv.close();
  }
});

test('a server waiting for bootstrap_expect servers settles at one round a second', async () => {
  const waits: number[] = [];
  await assert.rejects(planCluster({
    self: peer('s1'), targets: [], expect: 3, logger, closed: () => waits.length >= 6, tls: null,
    sleep: async (ms) => { waits.push(ms); },
  }), ClosedError);
  assert.deepEqual(waits, [200, 400, 800, 1000, 1000, 1000]);
});

test('a server waiting for the others logs why each unknown target did not answer', async () => {
  const down = await endpoint('s2', () => false);
  const gone = await endpoint('s3', () => true);
  await new Promise((r) => gone.srv.close(r));
  const infos: { obj: Record<string, unknown>; msg: string }[] = [];
  const recording = { ...logger, info: (obj: object, msg: string) => { infos.push({ obj: obj as Record<string, unknown>, msg }); } };
  try {
    await assert.rejects(planCluster({
      self: peer('s1'), targets: [down.target, gone.target], expect: 3, logger: recording, closed: () => infos.length > 0, tls: null,
      sleep: async () => undefined,
    }), ClosedError);
  } finally {
    down.srv.close();
  }
  assert.equal(infos[0].msg, 'waiting for servers to bootstrap etcd');
  const unanswered = Object.fromEntries((infos[0].obj.unanswered as string).split(' | ').map((e) => [e.slice(0, e.indexOf(': ')), e.slice(e.indexOf(': ') + 2)]));
  assert.deepEqual(Object.keys(unanswered).sort(), [down.target, gone.target].sort());
  assert.match(unanswered[down.target], /^503 not up/);
  assert.match(unanswered[gone.target], /ECONNREFUSED/);
});
