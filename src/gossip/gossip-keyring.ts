// The keyring as the agent sees it: local listing plus cluster-wide list / install / use /
// remove with per-node reports, and a rotation helper that does all three in the safe order.
import { decodeKey, type KeyList, type Keyring } from './keyring.ts';
import { applyKeyOp, clusterKeyOp, type KeyringReport } from './keyring-ops.ts';
import type { Membership } from './membership.ts';
import type { KeyOpMsg } from './messages.ts';
import type { Wire } from './wire.ts';

/** Reports of each step of a rotation. */
export interface RotationReport {
  install: KeyringReport;
  use: KeyringReport;
  remove: KeyringReport[];
}

/** Cluster-wide keyring operations of one gossip node. */
export class GossipKeyring {
  readonly #get: () => Keyring | undefined;
  readonly #m: Membership;
  readonly #wire: Wire;

  constructor(get: () => Keyring | undefined, m: Membership, wire: Wire) {
    this.#get = get;
    this.#m = m;
    this.#wire = wire;
  }

  /** This node's keys, or undefined when encryption is off. */
  local(): KeyList | undefined {
    return this.#get()?.list();
  }

  /** Asks every live member which keys it holds. */
  list(): Promise<KeyringReport> {
    return this.#op({ t: 'key', op: 'list' });
  }

  /** Installs `key` on every live member (it decrypts but does not yet encrypt). */
  install(key: string): Promise<KeyringReport> {
    decodeKey(key);
    return this.#op({ t: 'key', op: 'install', key });
  }

  /** Makes `key` the primary everywhere; it must be installed first. */
  use(key: string): Promise<KeyringReport> {
    decodeKey(key);
    return this.#op({ t: 'key', op: 'use', key });
  }

  /** Removes `key` everywhere; the primary cannot be removed. */
  remove(key: string): Promise<KeyringReport> {
    decodeKey(key);
    return this.#op({ t: 'key', op: 'remove', key });
  }

  /** Install, use, then remove every other key; stops at the first step some node failed. */
  async rotate(newKey: string): Promise<RotationReport> {
    const install = await this.install(newKey);
    failIfErrors('install', install);
    const use = await this.use(newKey);
    failIfErrors('use', use);
    const old = Object.keys((await this.list()).keys).filter((k) => k !== newKey);
    const remove: KeyringReport[] = [];
    for (const k of old) {
      const r = await this.remove(k);
      failIfErrors('remove', r);
      remove.push(r);
    }
    return { install, use, remove };
  }

  #op(msg: KeyOpMsg): Promise<KeyringReport> {
    const keyring = this.#get();
    if (!keyring) return Promise.reject(new Error('Gossip encryption is not enabled'));
    const targets = [...this.#m.members.values()].filter((m) => m.state === 'alive' || m.state === 'suspect');
    const local = { name: this.#m.name, apply: (x: KeyOpMsg) => applyKeyOp(keyring, x, this.#m.name) };
    return clusterKeyOp(targets, local, (m, x) => this.#wire.request({ host: m.addr, port: m.port }, x), msg);
  }
}

function failIfErrors(step: string, r: KeyringReport): void {
  if (r.numErr === 0) return;
  const detail = Object.entries(r.messages).map(([n, e]) => `${n}: ${e}`).join('; ');
  throw new Error(`key ${step} failed on ${r.numErr}/${r.numNodes} nodes: ${detail}`);
}
