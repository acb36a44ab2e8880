// Store leases on etcd leases: grant with an id we choose (etcd's own ids are 63-bit and would
// not fit a JS number exactly), keepalive as a round trip on keepalive streams, revoke.
import { randomInt } from 'node:crypto';
import { castGrpcError, GRPCDeadlineExceededError, GRPCUnavailableError, type Etcd3 } from 'etcd3';
import { NotFoundError, ProconsulError } from '../../errors.ts';
import type { LeaseGrant } from '../store.ts';
import { storeError } from './errors.ts';
import { endStream } from './watch.ts';

/** Largest lease id handed out: ids stay exact as JS numbers. */
const MAX_ID = Number.MAX_SAFE_INTEGER;
/** One keepalive attempt's deadline. */
const KEEPALIVE_ATTEMPT_MS = 1_500;
/** While no attempt has answered, another is sent this often, for at most KEEPALIVE_SENDING_MS. */
const KEEPALIVE_RESEND_MS = 250;
const KEEPALIVE_SENDING_MS = 3_000;

/** Lease operations for one etcd client. */
export class EtcdLeases {
  readonly #client: Etcd3;

  constructor(client: Etcd3) {
    this.#client = client;
  }

  /** Grants a lease; retries with a new random id on the (unlikely) collision. */
  async grant(ttlSeconds: number): Promise<LeaseGrant> {
    for (let attempt = 0; ; attempt++) {
      const id = randomInt(1, 2 ** 48) * 32 + randomInt(0, 32);
      try {
        const res = await this.#client.leaseClient.leaseGrant({ ID: Math.min(id, MAX_ID), TTL: ttlSeconds });
        if (res.error) throw new Error(res.error);
        return { id: Number(res.ID), ttlSeconds: Number(res.TTL) };
      } catch (err) {
        if (attempt < 3 && /lease already exists/.test(String(err))) continue;
        throw storeError(err, 'lease grant');
      }
    }
  }

  /**
   * One keepalive round trip; an expired or unknown lease answers TTL 0 (NotFoundError). A
   * keepalive is idempotent, so while none has answered a new one is sent every
   * KEEPALIVE_RESEND_MS on a new stream (the client's fault handling places it on a live
   * member) and the first answer counts: a member that lost its etcd leader may never answer a
   * renewal it got during the election, while one sent after it is answered at once.
   */
  keepAlive(id: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const until = Date.now() + KEEPALIVE_SENDING_MS;
      let pending = 0;
      let settled = false;
      let last: Error = new GRPCUnavailableError('lease keepalive not sent');
      const finish = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        if (err) reject(err);
        else resolve();
      };
      const send = () => {
        pending++;
        this.#keepAliveOnce(id).then(() => finish(null), (err: unknown) => {
          pending--;
          last = storeError(err, 'lease keepalive');
          if (!(last instanceof ProconsulError && last.code === 'unavailable')) finish(last);
          else if (pending === 0 && Date.now() >= until) finish(last);
        });
      };
      const timer = setInterval(() => {
        if (Date.now() < until) send();
        else if (pending === 0) finish(last);
      }, KEEPALIVE_RESEND_MS);
      send();
    });
  }

  async #keepAliveOnce(id: number): Promise<void> {
    const s = await this.#client.leaseClient.leaseKeepAlive();
    try {
      const ttl = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new GRPCDeadlineExceededError('lease keepalive timed out')), KEEPALIVE_ATTEMPT_MS);
        s.on('data', (res) => { clearTimeout(timer); resolve(Number(res.TTL)); });
        s.on('error', (err) => { clearTimeout(timer); reject(castGrpcError(err)); });
        s.on('end', () => { clearTimeout(timer); reject(new GRPCUnavailableError('lease keepalive stream ended')); });
        s.write({ ID: id });
      });
      if (ttl <= 0) throw new NotFoundError(`lease ${id} not found`);
    } finally {
      endStream(s);
    }
  }

  /** Revokes a lease; etcd deletes its keys in one revision. */
  async revoke(id: number): Promise<void> {
    try {
      await this.#client.leaseClient.leaseRevoke({ ID: id });
    } catch (err) {
      throw storeError(err, 'lease revoke');
    }
  }

  /** The granted TTL of a lease, or null once it has expired. */
  async grantedTtl(id: number): Promise<number | null> {
    try {
      const res = await this.#client.leaseClient.leaseTimeToLive({ ID: id });
      return Number(res.TTL) < 0 ? null : Number(res.grantedTTL);
    } catch (err) {
      throw storeError(err, 'lease time-to-live');
    }
  }
}
