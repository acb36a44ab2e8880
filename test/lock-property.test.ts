// Property test: clients race for one lock through random acquire/release/renew/destroy/
// expire sequences on a fake clock. After every step: at most one client believes it holds
// the lock and the key names exactly that session; every successful acquire is reflected in
// the key; a refused acquire of a free key only happens inside a lock-delay window; TTL
// sessions die no earlier than TTL and no later than 2×TTL after their last renew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../src/clock.ts';
import { startDevAgent } from './support/agent.ts';
import { seededRandom as prng } from '../src/gossip/random.ts';

const KEY = 'election/leader';
const TTL_MS = 10_000;


interface Client { session: string | null; renewedAt: number; holds: boolean; delayMs: number }

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

async function runSeed(seed: number, steps: number): Promise<void> {
  const rnd = prng(seed);
  const clock = new ManualClock(1_700_000_000_000);
  const dev = await startDevAgent({ deps: { clock } });
  const { kv, session } = dev.agent.endpoints;
  const replica = dev.agent.replica;
  const clients: Client[] = Array.from({ length: 4 }, () => ({ session: null, renewedAt: 0, holds: false, delayMs: 0 }));
  let delayedUntil = 0;
  const ctx = (step: number, what: string) => `seed ${seed} step ${step}: ${what}`;
  try {
    for (let step = 0; step < steps; step++) {
      const c = clients[Math.floor(rnd() * clients.length)];
      const op = rnd();
      if (!c.session) {
        c.delayMs = Math.floor(rnd() * 4) * 1000;
        c.session = await session.create({
          Name: 'p', Node: 'test-node', LockDelay: c.delayMs * 1e6, Behavior: 'release', TTL: `${TTL_MS / 1000}s`,
          NodeChecks: ['serfHealth'], ServiceChecks: [],
        });
        c.renewedAt = clock.now();
      } else if (op < 0.35) {
        const ok = await kv.put(KEY, Buffer.from(c.session), { acquire: c.session });
        const e = replica.kvs.get(KEY);
        if (ok) {
          assert.equal(e?.Session, c.session, ctx(step, 'acquire reported true but the key names another session'));
          c.holds = true;
        } else if (!e?.Session) {
          assert.ok(clock.now() < delayedUntil, ctx(step, 'free key refused outside any lock-delay'));
        }
      } else if (op < 0.5) {
        const ok = await kv.put(KEY, null, { release: c.session });
        assert.equal(ok, c.holds, ctx(step, 'release result disagrees with ownership'));
        c.holds = false;
      } else if (op < 0.7) {
        const out = await session.renew(c.session);
        assert.ok(out, ctx(step, 'renew of a live session failed'));
        c.renewedAt = clock.now();
      } else if (op < 0.8) {
        if (c.holds) delayedUntil = Math.max(delayedUntil, clock.now() + c.delayMs);
        await session.destroy(c.session);
        c.session = null;
        c.holds = false;
      } else {
        clock.advance(Math.floor(rnd() * 12_000));
        await settle();
      }
      // Sessions past 2×TTL must be gone; sessions within TTL must be alive.
      for (const x of clients) {
        if (!x.session) continue;
        const age = clock.now() - x.renewedAt;
        const alive = replica.sessions.get(x.session) !== undefined;
        if (age < TTL_MS) assert.ok(alive, ctx(step, `session died ${age} ms after renew (< TTL)`));
        if (age >= 2 * TTL_MS) assert.ok(!alive, ctx(step, `session alive ${age} ms after renew (>= 2×TTL)`));
        if (!alive) {
          // The fake clock jumps, so the invalidation was applied at the jump's end, not at the deadline.
          if (x.holds) delayedUntil = Math.max(delayedUntil, clock.now() + x.delayMs);
          x.session = null;
          x.holds = false;
        }
      }
      const holders = clients.filter((x) => x.holds);
      assert.ok(holders.length <= 1, ctx(step, `${holders.length} clients believe they hold the lock`));
      const e = replica.kvs.get(KEY);
      assert.equal(e?.Session || null, holders[0]?.session ?? null, ctx(step, 'key holder differs from the believed holder'));
    }
  } finally {
    await dev.stop();
  }
}

test('random acquire/release/renew/destroy/expire sequences never yield two holders', async () => {
  for (let seed = 1; seed <= 25; seed++) await runSeed(seed, 150);
});
