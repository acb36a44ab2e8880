// Maps etcd client and server errors onto the typed error catalog, once, for the etcd backend:
// a missing lease is NotFoundError, a closed client ClosedError, compaction CompactedError,
// connection trouble `unavailable`.
import { ClientClosedError, EtcdLeaseInvalidError, GRPCGenericError } from 'etcd3';
import { BadRequestError, ClosedError, NotFoundError, ProconsulError, TooLargeError } from '../../errors.ts';

/** Whether an error means the etcd cluster could not be reached or had no leader (retry is safe for reads). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof ProconsulError) return err.code === 'unavailable';
  if (!(err instanceof Error)) return false;
  return err instanceof GRPCGenericError && /unavailable|no leader|leader changed|timed out|deadline|connect/i.test(`${err.name} ${err.message}`);
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
