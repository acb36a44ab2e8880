// Sessions and locks as HA tools use them, driven by the real npm `consul` 2.x client against
// a real agent whose clock is a ManualClock (TTLs and lock-delays without sleeping).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Consul from 'consul';
import { ManualClock } from '../src/clock.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

interface Pair { Key: string; Value: string | null; LockIndex: number; Session?: string; Flags: number }
interface SessionInfo { ID: string; Node: string; LockDelay: number; Behavior: string; TTL: string; NodeChecks: string[] | null }

let dev: DevAgent;
let clock: ManualClock;
let consul: Consul;
let base: string;

before(async () => {
  clock = new ManualClock(Date.now());
  dev = await startDevAgent({ deps: { clock } });
  const [host, port] = dev.httpAddr.split(':');
  consul = new Consul({ host, port: Number(port) });
  base = `http://${dev.httpAddr}`;
});
after(async () => {
  await dev.stop();
});

async function session(opts: Record<string, unknown> = {}): Promise<string> {
  const res = (await consul.session.create(opts)) as { ID: string };
  return res.ID;
}
const get = async (key: string): Promise<Pair | undefined> => (await consul.kv.get(key)) as Pair | undefined;
const acquire = (key: string, id: string, value: string): Promise<boolean> =>
  consul.kv.set({ key, value, acquire: id }) as Promise<boolean>;
const release = (key: string, id: string): Promise<boolean> => consul.kv.set({ key, value: 'released', release: id }) as Promise<boolean>;
/** Settles the event loop so timer callbacks fired by ManualClock.advance() finish their writes. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe('two contenders', () => {
  test('mutual exclusion, LockIndex counts acquisitions, release hands over', async () => {
    const a = await session({ name: 'a', lockdelay: '1s' });
    const b = await session({ name: 'b', lockdelay: '1s' });
    assert.equal(await acquire('svc/leader', a, 'A'), true);
    assert.ok(!(await acquire('svc/leader', b, 'B')), 'second contender is refused');
    let p = (await get('svc/leader'))!;
    assert.equal(p.Session, a);
    assert.equal(p.LockIndex, 1);
    assert.equal(p.Value, 'A', 'the client decodes the base64 Value');

    // Re-acquiring by the holder updates the value without counting a new acquisition.
    assert.equal(await acquire('svc/leader', a, 'A2'), true);
    assert.equal((await get('svc/leader'))!.LockIndex, 1);

    assert.ok(!(await release('svc/leader', b)), 'a non-holder cannot release');
    assert.equal(await release('svc/leader', a), true);
    p = (await get('svc/leader'))!;
    assert.equal(p.Session, undefined);
    // A voluntary release starts no lock-delay: the other contender takes over at once.
    assert.equal(await acquire('svc/leader', b, 'B'), true);
    p = (await get('svc/leader'))!;
    assert.equal(p.Session, b);
    assert.equal(p.LockIndex, 2);
  });

  test('lock-delay blocks re-acquire for the configured time after the holder is destroyed', async () => {
    const a = await session({ name: 'a', lockdelay: '10s' });
    const b = await session({ name: 'b' });
    assert.equal(await acquire('db/leader', a, 'A'), true);
    await consul.session.destroy(a);
    const p = (await get('db/leader'))!;
    assert.equal(p.Session, undefined, 'invalidation released the lock');
    assert.equal(p.LockIndex, 1);
    assert.ok(!(await acquire('db/leader', b, 'B')), 'refused during lock-delay');
    clock.advance(9_900);
    assert.ok(!(await acquire('db/leader', b, 'B')), 'still refused just before the delay ends');
    clock.advance(200);
    assert.equal(await acquire('db/leader', b, 'B'), true);
    assert.equal((await get('db/leader'))!.LockIndex, 2);
  });

  test('a TTL session with behavior=delete that is not renewed loses its key within 2×TTL, not before TTL', async () => {
    const s = await session({ name: 'ttl', ttl: '10s', behavior: 'delete', lockdelay: '0s' });
    assert.equal(await acquire('cron/leader', s, 'me'), true);
    clock.advance(9_999);
    await settle();
    assert.ok(await get('cron/leader'), 'held before TTL');
    assert.equal(((await consul.session.info(s)) as SessionInfo).ID, s);
    clock.advance(10_001);
    await settle();
    assert.equal(await get('cron/leader'), undefined, 'key deleted by 2×TTL');
    const info = await (await fetch(`${base}/v1/session/info/${s}`)).json();
    assert.deepEqual(info, []);
    const renew = await fetch(`${base}/v1/session/renew/${s}`, { method: 'PUT' });
    assert.equal(renew.status, 404);
    assert.equal(await renew.text(), `Session id '${s}' not found`);
  });

  test('renewing keeps a TTL session alive past 2×TTL', async () => {
    const s = await session({ ttl: '10s' });
    assert.equal(await acquire('renewed/leader', s, 'x'), true);
    for (let i = 0; i < 5; i++) {
      clock.advance(15_000);
      await settle();
      const renewed = (await consul.session.renew(s)) as SessionInfo[];
      assert.equal(renewed[0].ID, s);
    }
    assert.equal((await get('renewed/leader'))!.Session, s);
  });
});

describe('session API shapes and errors', () => {
  test('defaults: this node, serfHealth, 15s lock-delay in ns, release; explicit empty checks mean none', async () => {
    const s = await session({ name: 'shape' });
    const info = (await consul.session.info(s)) as SessionInfo;
    assert.equal(info.Node, 'test-node');
    assert.equal(info.LockDelay, 15_000_000_000);
    assert.equal(info.Behavior, 'release');
    assert.deepEqual(info.NodeChecks, ['serfHealth']);
    const none = await fetch(`${base}/v1/session/create`, { method: 'PUT', body: JSON.stringify({ checks: [], lockdelay: 5 }) });
    const { ID } = (await none.json()) as { ID: string };
    const [n] = (await (await fetch(`${base}/v1/session/info/${ID}`)).json()) as SessionInfo[];
    assert.equal(n.NodeChecks, null);
    assert.equal(n.LockDelay, 5_000_000_000, 'small numbers are seconds');
    const frac = await fetch(`${base}/v1/session/create`, { method: 'PUT', body: JSON.stringify({ LockDelay: '0.001s' }) });
    const [f] = (await (await fetch(`${base}/v1/session/info/${((await frac.json()) as { ID: string }).ID}`)).json()) as SessionInfo[];
    assert.equal(f.LockDelay, 1_000_000);
  });

  test('Consul\'s error texts: TTL bounds, behavior, unknown node and check, acquire with an unknown session', async () => {
    const put = (path: string, body?: unknown) => fetch(`${base}${path}`, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) });
    let r = await put('/v1/session/create', { TTL: '5s' });
    assert.equal(r.status, 500);
    assert.match(await r.text(), /^Invalid Session TTL '5000000000', must be between \[10s=24h0m0s\]/);
    r = await put('/v1/session/create', { TTL: '86401s' });
    assert.match(await r.text(), /^Invalid Session TTL/);
    r = await put('/v1/session/create', { Behavior: 'explode' });
    assert.equal(await r.text(), "Invalid Behavior setting 'explode'");
    r = await put('/v1/session/create', { Node: 'ghost' });
    assert.equal(await r.text(), 'Missing node registration');
    r = await put('/v1/session/create', { NodeChecks: ['nope'] });
    assert.equal(await r.text(), "Missing check 'nope' registration");
    r = await put('/v1/kv/k?acquire=00000000-0000-0000-0000-000000000000', 'v');
    assert.equal(r.status, 500);
    assert.match(await r.text(), /^invalid session/);
    r = await put('/v1/session/destroy/');
    assert.equal(r.status, 400);
    assert.equal(await r.text(), 'Missing session');
  });

  test('node and list views; blocking info wakes on destroy', async () => {
    const s = await session({ name: 'listed' });
    const list = (await consul.session.list()) as SessionInfo[];
    assert.ok(list.some((x) => x.ID === s));
    const mine = (await consul.session.node('test-node')) as SessionInfo[];
    assert.ok(mine.some((x) => x.ID === s));
    assert.deepEqual(await (await fetch(`${base}/v1/session/node/other`)).json(), []);
    const first = await fetch(`${base}/v1/session/info/${s}`);
    const index = first.headers.get('x-consul-index');
    const waiting = fetch(`${base}/v1/session/info/${s}?index=${index}&wait=30s`);
    await consul.session.destroy(s);
    const woke = await waiting;
    assert.ok(Number(woke.headers.get('x-consul-index')) > Number(index));
    assert.deepEqual(await woke.json(), []);
  });

  test('uint64 flags (consul lock\'s marker) round-trip exactly', async () => {
    const flag = '3304740253564472344';
    await fetch(`${base}/v1/kv/flagged?flags=${flag}`, { method: 'PUT', body: 'x' });
    const text = await (await fetch(`${base}/v1/kv/flagged`)).text();
    assert.match(text, new RegExp(`"Flags":${flag},`));
  });

  test('txn: lock, check-session, unlock and Session delete', async () => {
    const s = await session({ lockdelay: '0s' });
    const txn = async (ops: unknown[]) => {
      const r = await fetch(`${base}/v1/txn`, { method: 'PUT', body: JSON.stringify(ops) });
      return { status: r.status, body: (await r.json()) as { Results: { KV: Pair }[] | null; Errors: { What: string }[] | null } };
    };
    let r = await txn([{ KV: { Verb: 'lock', Key: 'tx/l', Value: 'dg==', Session: s } }, { KV: { Verb: 'check-session', Key: 'tx/l', Session: s } }]);
    assert.equal(r.status, 200);
    assert.equal(r.body.Results![0].KV.Session, s);
    assert.equal(r.body.Results![0].KV.LockIndex, 1);
    r = await txn([{ KV: { Verb: 'unlock', Key: 'tx/l', Session: s } }]);
    assert.equal(r.status, 200);
    assert.equal((await get('tx/l'))!.Session, undefined);
    r = await txn([{ KV: { Verb: 'lock', Key: 'tx/l', Session: s } }]);
    assert.equal(r.status, 200);
    r = await txn([{ Session: { Verb: 'delete', Session: { ID: s } } }]);
    assert.equal(r.status, 200);
    assert.equal((await get('tx/l'))!.Session, undefined);
    r = await txn([{ KV: { Verb: 'lock', Key: 'tx/l', Session: s } }]);
    assert.equal(r.status, 409);
    assert.match(r.body.Errors![0].What, /^invalid session/);
  });
  test('a session is not created against a check that went critical after its replica read', async () => {
    const reg = await fetch(`${base}/v1/catalog/register`, { method: 'PUT', body: JSON.stringify({
      Node: 'race-n', Address: '10.9.0.1', Check: { CheckID: 'race-c', Name: 'race-c', Status: 'passing' },
    }) });
    assert.equal(reg.status, 200);
    const store = dev.agent.store;
    const stored = (await store.range('catalog/check/')).kvs.find((kv) => kv.key.endsWith('/race-c'))!;
    const critical = { ...JSON.parse(Buffer.from(stored.value).toString('utf8')), Status: 'critical' };
    // The check's critical write commits after the create read the replica and before its txn:
    // the write's own plan saw no session to invalidate.
    const txn = store.txn.bind(store);
    let raced = false;
    (store as { txn: typeof store.txn }).txn = async (req) => {
      if (!raced && req.success.some((o) => o.type === 'put' && o.key.startsWith('session/'))) {
        raced = true;
        await txn({ success: [{ type: 'put', key: stored.key, value: Buffer.from(JSON.stringify(critical)) }] });
      }
      return txn(req);
    };
    try {
      const res = await fetch(`${base}/v1/session/create`, { method: 'PUT', body: JSON.stringify({ Node: 'race-n', Checks: ['race-c'] }) });
      assert.ok(raced);
      assert.equal(res.status, 500, await res.text());
    } finally {
      (store as { txn: typeof store.txn }).txn = txn;
    }
    const sessions = (await (await fetch(`${base}/v1/session/node/race-n`)).json()) as unknown[];
    assert.equal(sessions.length, 0);
  });
});
