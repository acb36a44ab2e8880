// The shared write path: a first attempt that commits answers from its txn; a refusal or an
// answer planned from a replica that may lag is planned again from a current one; a conflict is
// re-planned against the state that beat it; the replica shows the commit before the answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commitPlanned, type Plan } from './commit.ts';
import type { EndpointDeps } from './deps.ts';
import type { TxnRequest, TxnResponse } from '../store/index.ts';

/** A store whose txns succeed or fail as scripted, and a replica that applies a revision when told. */
function fakeDeps(outcomes: boolean[]) {
  const log: string[] = [];
  let revision = 10;
  let applied = 10;
  const waiters: { rev: number; resolve: () => void }[] = [];
  const apply = (rev: number) => {
    applied = rev;
    for (const w of waiters.splice(0)) if (w.rev <= applied) w.resolve(); else waiters.push(w);
  };
  const deps = {
    store: {
      txn(req: TxnRequest): Promise<TxnResponse> {
        const ok = outcomes.shift() ?? true;
        log.push(`txn ${req.success?.length ?? 0} ${ok ? 'ok' : 'conflict'}`);
        if (ok) revision++;
        const res = { succeeded: ok, revision, results: [] } as TxnResponse;
        // The replica applies the commit a moment after the store acknowledges it.
        return Promise.resolve(res).then((r) => { setImmediate(() => apply(r.revision)); return r; });
      },
      currentRevision(): Promise<number> {
        log.push('current');
        return Promise.resolve(revision);
      },
    },
    replica: {
      get appliedRevision() { return applied; },
      waitFor(rev: number): Promise<void> {
        log.push(`wait ${rev}`);
        if (rev <= applied) return Promise.resolve();
        return new Promise((resolve) => waiters.push({ rev, resolve }));
      },
    },
  } as unknown as EndpointDeps;
  return { deps, log, applied: () => applied };
}

const txnPlan = (tag: string): Plan<string> => ({
  txn: { compares: [], success: [{ type: 'put', key: 'k', value: new Uint8Array(0) }] },
  done: (res) => `${tag}@${res.revision}`,
});

test('a plan that commits at once answers from its txn, after the replica shows it', async () => {
  const f = fakeDeps([true]);
  let plans = 0;
  const out = await commitPlanned(f.deps, () => (plans++, txnPlan('first')));
  assert.equal(out, 'first@11');
  assert.equal(plans, 1);
  assert.equal(f.applied(), 11, 'the caller reads its own write');
  assert.deepEqual(f.log, ['txn 1 ok', 'wait 11']);
});

test('a conflict is planned again and committed', async () => {
  const f = fakeDeps([false, false, true]);
  let plans = 0;
  const out = await commitPlanned(f.deps, () => txnPlan(`try${++plans}`));
  assert.equal(out, 'try3@11');
  assert.equal(plans, 3);
});

test('a refusal or an answer from a possibly lagging replica is planned again from a current one', async () => {
  const f = fakeDeps([]);
  let plans = 0;
  const refused = await commitPlanned(f.deps, (): Plan<string> => {
    if (++plans === 1) throw new Error('not yet');
    return { answer: 'second' };
  });
  assert.equal(refused, 'second');
  assert.equal(plans, 2);
  assert.deepEqual(f.log, ['current', 'wait 10']);

  // From a current replica the refusal stands.
  await assert.rejects(commitPlanned(f.deps, () => { throw new Error('no'); }), /no/);
  let answers = 0;
  assert.equal(await commitPlanned(f.deps, () => ({ answer: ++answers })), 2, 'the first answer is re-planned once');
});

test('a txn that throws or a done() that throws rejects', async () => {
  const f = fakeDeps([true]);
  (f.deps.store as { txn: unknown }).txn = () => { throw new Error('closed'); };
  await assert.rejects(commitPlanned(f.deps, () => txnPlan('x')), /closed/);
  const g = fakeDeps([true]);
  await assert.rejects(commitPlanned(g.deps, () => ({ ...txnPlan('x'), done: () => { throw new Error('bad answer'); } })), /bad answer/);
});

test('every attempt conflicting ends in a conflict error', async () => {
  const f = fakeDeps(Array(60).fill(false));
  let plans = 0;
  await assert.rejects(commitPlanned(f.deps, () => (plans++, txnPlan('x'))), { code: 'conflict' } as object);
  assert.equal(plans, 50);
});

test('a write planned again from a current replica is not timed as a consistent read (rpc.consistentRead counts reads)', async () => {
  const f = fakeDeps([]);
  const timed: number[] = [];
  (f.deps as { timeConsistentRead?: (ms: number) => void }).timeConsistentRead = (ms) => { timed.push(ms); };
  let plans = 0;
  // A failed lock acquire or check-and-set answers from the replica, then again from a current one.
  assert.equal(await commitPlanned(f.deps, () => ({ answer: ++plans })), 2);
  assert.deepEqual(f.log, ['current', 'wait 10'], 'it still caught up before planning again');
  assert.deepEqual(timed, []);
});
