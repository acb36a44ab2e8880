// Maps etcd client and server errors onto the typed error catalog, once, for the etcd backend:
// a missing lease is NotFoundError, a closed client ClosedError, compaction CompactedError,
// connection trouble `unavailable`. Also says which failures a request may be retried after
// while etcd elects a leader (hold.ts): any for reads, only those before a proposal for writes.
import { ClientClosedError, EtcdLeaseInvalidError, GRPCGenericError } from 'etcd3';
import { BadRequestError, ClosedError, NotFoundError, ProconsulError, TooLargeError } from '../../errors.ts';
import { notSent } from './faults.ts';

/**
 * etcd's refusals made before the request reached the Raft log: `no leader` (answered at once to
 * a request that requires a leader, see etcd.ts), a proposal the local Raft node dropped (a leader
 * handing its role over), a learner asked to serve, an overloaded member.
 */
const REFUSED_BEFORE_PROPOSAL = /etcdserver: no leader|raft proposal dropped|not supported for learner|etcdserver: too many requests/;

/**
 * Failures whose write may or may not have been applied: a deadline, a leader lost after the
 * proposal, a member stopping (`raft: stopped` once its Raft node has: a member removed from the
 * cluster, which may have taken the proposal before it stopped).
 */
const UNAVAILABLE = /unavailable|no leader|leader changed|timed out|deadline|connect|server stopped|raft: stopped/i;

/**
 * Whether etcd refused the request before proposing it (or the client never sent it): nothing was
 * applied, so even a write may be sent again.
 */
export function notProposed(err: unknown): boolean {
  if (!(err instanceof GRPCGenericError)) return false;
  return REFUSED_BEFORE_PROPOSAL.test(err.message) || notSent(err);
}

/** Whether an error means the etcd cluster could not be reached or had no leader (retry is safe for reads). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof ProconsulError) return err.code === 'unavailable';
  if (!(err instanceof GRPCGenericError)) return false;
  return notProposed(err) || UNAVAILABLE.test(`${err.name} ${err.message}`);
}

/** The catalog error for an etcd failure. */
export function storeError(err: unknown, what = 'etcd request'): Error {
  if (err instanceof ProconsulError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (err instanceof EtcdLeaseInvalidError || /requested lease not found/.test(msg)) {
    return new NotFoundError('lease not found', { cause: err });
  }
  if (err instanceof ClientClosedError) return new ClosedError();
  if (/request is too large|too many operations/.test(msg)) return new TooLargeError(`${what}: ${msg}`, { cause: err });
  if (/duplicate key given in txn request|key is not provided/.test(msg)) return new BadRequestError(`${what}: ${msg}`, { cause: err });
  if (isUnavailable(err)) return new ProconsulError('unavailable', `${what} failed: ${msg}`, { cause: err });
  return new ProconsulError('internal', `${what} failed: ${msg}`, { cause: err });
}
