// Store leases on etcd leases: grant with an id we choose (etcd's own ids are 63-bit and would
// not fit a JS number exactly), keepalive as one round trip on the keepalive stream, revoke.
import { randomInt } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { NotFoundError } from '../../errors.ts';
import type { LeaseGrant } from '../store.ts';
import { storeError } from './errors.ts';

/** Largest lease id handed out: ids stay exact as JS numbers. */
const MAX_ID = Number.MAX_SAFE_INTEGER;
const KEEPALIVE_TIMEOUT_MS = 10_000;

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

  /** One keepalive round trip; an expired or unknown lease answers TTL 0 (NotFoundError). */
  async keepAlive(id: number): Promise<void> {
    let stream;
    try {
      stream = await this.#client.leaseClient.leaseKeepAlive();
    } catch (err) {
      throw storeError(err, 'lease keepalive');
    }
    const s = stream;
    try {
      const ttl = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('lease keepalive timed out')), KEEPALIVE_TIMEOUT_MS);
        s.on('data', (res) => { clearTimeout(timer); resolve(Number(res.TTL)); });
        s.on('error', (err) => { clearTimeout(timer); reject(err); });
        s.on('end', () => { clearTimeout(timer); reject(new Error('lease keepalive stream ended')); });
        s.write({ ID: id });
      });
      if (ttl <= 0) throw new NotFoundError(`lease ${id} not found`);
    } catch (err) {
      throw storeError(err, 'lease keepalive');
    } finally {
      try { s.cancel(); } catch { /* already closed */ }
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
