// The one map from typed errors to DNS RCODEs (as http/errors.ts maps them to statuses).
import { ProconsulError, type ErrorCode } from '../errors.ts';

/** RCODE values used by the DNS transport. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const BY_CODE: Partial<Record<ErrorCode, number>> = {
  not_found: RCODE.NXDOMAIN,
  bad_request: RCODE.FORMERR,
  method_not_allowed: RCODE.NOTIMP,
  permission_denied: RCODE.REFUSED,
  rate_limited: RCODE.REFUSED,
  unavailable: RCODE.SERVFAIL,
  no_leader: RCODE.SERVFAIL,
  internal: RCODE.SERVFAIL,
};

/** The RCODE for an error thrown while answering (SERVFAIL for anything untyped). */
export function rcodeFor(err: unknown): number {
  if (err instanceof ProconsulError) return BY_CODE[err.code] ?? RCODE.SERVFAIL;
  return RCODE.SERVFAIL;
}
