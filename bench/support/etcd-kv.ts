// The raw-etcd reference of the KV bench: the same PUT and GET a user of etcd would issue with
// the `etcd3` client (default options, every member's URL as hosts), on the same 256-byte
// values and key set as the agent cells. GET is a linearizable range (etcd's default, like
// Consul's default read); GET serializable is the member-local read, the counterpart of ?stale.
import { Etcd3 } from 'etcd3';
import { KEYS, value } from './kv-data.ts';
import type { Operation } from './load.ts';

/** The three operations against one etcd cluster, and a way to let go of the client. */
export interface EtcdKvOps {
  put: Operation;
  get: Operation;
  getSerializable: Operation;
  /** Writes every key once so GETs always find a value. */
  fill(): Promise<void>;
  close(): void;
}

/** Builds the operations on an `etcd3` client for `endpoints`; keys live under `prefix`. */
export function etcdKvOps(endpoints: string[], prefix = '/bench-etcd3/'): EtcdKvOps {
  const client = new Etcd3({ hosts: endpoints });
  const key = (i: number) => `${prefix}k${i % KEYS}`;
  const found = (v: Buffer | null) => {
    if (!v) throw new Error('missing key');
  };
  return {
    put: (i) => client.put(key(i)).value(value(i)).exec().then(() => {}),
    get: (i) => client.get(key(i)).buffer().then(found),
    getSerializable: (i) => client.get(key(i)).serializable(true).buffer().then(found),
    async fill() {
      let next = 0;
      const worker = async () => {
        while (next < KEYS) {
          const i = next++;
          await client.put(key(i)).value(value(i)).exec();
        }
      };
      await Promise.all(Array.from({ length: 64 }, worker));
    },
    close: () => client.close(),
  };
}
