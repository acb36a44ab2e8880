// The config-entries table of the replica (Consul's `config-entries`): entries under
// `config/<kind>/<name>` by kind and name, with per-kind indexes (deletes included) so a
// blocking list wakes only when its kind changes.
import type { WatchEvent } from '../store/index.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName, type EnterpriseMeta } from './tenancy.ts';

/** Store prefix of the config entries. */
export const CONFIG_PREFIX = 'config/';
/** Notifier table; keys are `<kind>/<name>`, so a kind's list watches the prefix `<kind>/`. */
export const CONFIG_ENTRIES_TABLE = 'config-entries';

/** A config entry as the API returns it: Consul's JSON fields plus the store's indexes. */
export type ConfigEntry = Record<string, unknown> & { Kind: string; Name: string; CreateIndex: number; ModifyIndex: number };

/** Store key of an entry. */
export const configEntryKey = (kind: string, name: string): string =>
  `${CONFIG_PREFIX}${encodeURIComponent(kind)}/${encodeURIComponent(name)}`;

/** Config entries by kind and name. */
export class ConfigEntriesTable {
  readonly #kinds = new Map<string, Map<string, ConfigEntry>>();
  /** Highest revision that changed each kind (kept after deletion). */
  readonly #kindIndex = new Map<string, number>();
  /** Highest revision that changed the table. */
  index = 0;
  /** `Namespace`/`Partition` set on every entry of a non-default tenant's table (from its keys, never stored). */
  readonly #tenancy: { Namespace: string; Partition: string } | undefined;

  /** `ent`: the tenant of a non-default tenant's table (its rows then carry Namespace and Partition). */
  constructor(ent?: EnterpriseMeta) {
    this.#tenancy = ent && { Namespace: foldTenancyName(ent.namespace), Partition: foldTenancyName(ent.partition || DEFAULT_TENANCY_NAME) };
  }

  /** Applies one store event; returns the notifier key `<kind>/<name>` it changed. */
  apply(ev: WatchEvent): string {
    const [kind, name] = ev.kv.key.slice(CONFIG_PREFIX.length).split('/').map(decodeURIComponent);
    let rows = this.#kinds.get(kind);
    if (ev.type === 'put') {
      const rec = JSON.parse(Buffer.from(ev.kv.value).toString('utf8')) as ConfigEntry;
      if (!rows) this.#kinds.set(kind, (rows = new Map()));
      rows.set(name, this.#tenancy
        ? { ...rec, ...this.#tenancy, CreateIndex: ev.kv.createRevision, ModifyIndex: ev.kv.modRevision }
        : { ...rec, CreateIndex: ev.kv.createRevision, ModifyIndex: ev.kv.modRevision });
    } else if (rows) {
      rows.delete(name);
      if (rows.size === 0) this.#kinds.delete(kind);
    }
    const rev = ev.kv.modRevision;
    this.#kindIndex.set(kind, Math.max(this.#kindIndex.get(kind) ?? 0, rev));
    this.index = Math.max(this.index, rev);
    return `${kind}/${name}`;
  }

  /** Empties the table (before a re-list). */
  reset(): void {
    this.#kinds.clear();
    this.#kindIndex.clear();
    this.index = 0;
  }

  /** One entry. */
  get(kind: string, name: string): ConfigEntry | undefined {
    return this.#kinds.get(kind)?.get(name);
  }

  /** Entries of a kind sorted by name (every kind, by kind then name, for ''). */
  list(kind: string): ConfigEntry[] {
    const kinds = kind === '' ? [...this.#kinds.keys()].sort() : [kind];
    return kinds.flatMap((k) => [...(this.#kinds.get(k)?.values() ?? [])].sort((a, b) => cmp(a.Name, b.Name)));
  }

  /** Number of entries' kinds (0: the table holds no entry). */
  get size(): number {
    return this.#kinds.size;
  }

  /** How many entries of a kind there are. */
  count(kind: string): number {
    return this.#kinds.get(kind)?.size ?? 0;
  }

  /** The index of one kind ('' for the whole table). */
  kindIndex(kind: string): number {
    return kind === '' ? this.index : this.#kindIndex.get(kind) ?? 0;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
