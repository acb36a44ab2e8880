// The write path shared by every endpoint: plan a Store txn from what the replica shows at
// revision R (compares pin what was read), commit, retry on conflict, then wait until the
// replica has applied the commit so the caller reads its own write.
import { ConflictError } from '../errors.ts';
import type { TxnRequest, TxnResponse } from '../store/index.ts';
import type { EndpointDeps } from './deps.ts';

/** A planned write: a txn to commit, or an answer that needs no write. */
export type Plan<T> =
  | { txn: TxnRequest; done: (res: TxnResponse) => T }
  | { answer: T };

const MAX_ATTEMPTS = 50;

/** Plans and commits with optimistic concurrency; `plan` is re-run after every conflict. */
export async function commitPlanned<T>(deps: EndpointDeps, plan: () => Plan<T>): Promise<T> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const p = plan();
    if ('answer' in p) return p.answer;
    const res = await deps.store.txn(p.txn);
    // Wait for the replica either way: on success to read our own write, on conflict to re-plan
    // against the state that beat us.
    await deps.replica.waitFor(res.revision);
    if (res.succeeded) return p.done(res);
  }
  throw new ConflictError('too many concurrent conflicting writes; try again');
}
