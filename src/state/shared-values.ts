// Memory sharing for catalog records: at 100,000 instances most sub-objects are Consul's
// defaults (empty Connect, Proxy, Definition; Weights 1/1) and most tag lists repeat across a
// service's instances. Records point at one frozen copy of each instead of their own; frozen, so
// code that tried to modify a shared value in place would throw instead of changing every record.
import type { NodeService, HealthCheck } from '../api/catalog-types.ts';

const EMPTY = Object.freeze({});
const WEIGHTS = Object.freeze({ Passing: 1, Warning: 1 });
const PROXY = Object.freeze({ Mode: '', MeshGateway: EMPTY, Expose: EMPTY });
const NO_TAGS_LIST: readonly string[] = Object.freeze([]);

/** The shared (frozen) empty object records point at for empty Connect, Definition, MeshGateway and Expose. */
export const EMPTY_OBJECT: Readonly<Record<string, never>> = EMPTY;
/** The shared default Weights of a service instance (passing 1, warning 1). */
export const DEFAULT_WEIGHTS: Readonly<{ Passing: number; Warning: number }> = WEIGHTS;
/** The shared default Proxy of a service instance (no mode, empty mesh gateway and expose). */
export const DEFAULT_PROXY: Readonly<{ Mode: string; MeshGateway: object; Expose: object }> = PROXY;
/** The shared empty tag list. */
export const NO_TAGS: readonly string[] = NO_TAGS_LIST;
/** Distinct tag lists remembered per service name; names whose instances all differ stop here. */
const MAX_TAG_LISTS = 8;

function isEmptyObject(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  for (const _ in v) return false;
  return true;
}

/** Object.keys(o).length without building the array. */
function ownKeyCount(o: object): number {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k)) n++;
  return n;
}

function isDefaultWeights(v: unknown): boolean {
  const w = v as { Passing?: unknown; Warning?: unknown } | null;
  return w !== null && typeof w === 'object' && w.Passing === 1 && w.Warning === 1 && ownKeyCount(w) === 2;
}

function isDefaultProxy(v: unknown): boolean {
  const p = v as { Mode?: unknown; MeshGateway?: unknown; Expose?: unknown } | null;
  return p !== null && typeof p === 'object' && p.Mode === '' && isEmptyObject(p.MeshGateway) && isEmptyObject(p.Expose)
    && ownKeyCount(p) === 3;
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Shared tag lists and default sub-objects for the catalog tables. */
export class SharedValues {
  /** service name → the name string its records share and its distinct tag lists (frozen) */
  readonly #names = new Map<string, { name: string; tags: (readonly string[])[] }>();

  #entry(service: string): { name: string; tags: (readonly string[])[] } {
    let e = this.#names.get(service);
    if (!e) this.#names.set(service, (e = { name: service, tags: [] }));
    return e;
  }

  /** The shared copy of a service's tag list (or the list itself once the name has too many). */
  tags(service: string, tags: string[] | null): string[] | null {
    if (!Array.isArray(tags)) return tags;
    if (tags.length === 0) return NO_TAGS_LIST as string[];
    const lists = this.#entry(service).tags;
    for (const l of lists) if (sameTags(l, tags)) return l as string[];
    if (lists.length >= MAX_TAG_LISTS) return tags;
    const shared = Object.freeze(tags.slice());
    lists.push(shared);
    return shared as string[];
  }

  /** Forgets a service name's tag lists (its last instance is gone). */
  forget(service: string): void {
    this.#names.delete(service);
  }

  /** Replaces default and repeated parts of a decoded service instance with shared copies. */
  service(svc: NodeService): NodeService {
    const name = this.#entry(svc.Service).name;
    if (svc.ID === name) svc.ID = name;
    svc.Service = name;
    svc.Tags = this.tags(name, svc.Tags);
    if (isDefaultWeights(svc.Weights)) svc.Weights = WEIGHTS as NodeService['Weights'];
    if (isDefaultProxy(svc.Proxy)) svc.Proxy = PROXY as NodeService['Proxy'];
    if (isEmptyObject(svc.Connect)) svc.Connect = EMPTY;
    return svc;
  }

  /**
   * The same for a check: `node` is the node's name as the tables already hold it, `svc` the
   * check's service instance on that node, when there is one.
   */
  check(c: HealthCheck, node: string, svc: NodeService | undefined): HealthCheck {
    if (c.Node === node) c.Node = node;
    if (svc && c.ServiceID === svc.ID) {
      c.ServiceID = svc.ID;
      if (c.ServiceName === svc.Service) c.ServiceName = svc.Service;
      if (Array.isArray(c.ServiceTags) && Array.isArray(svc.Tags) && sameTags(c.ServiceTags, svc.Tags)) c.ServiceTags = svc.Tags;
    }
    if (Array.isArray(c.ServiceTags) && c.ServiceTags.length === 0) c.ServiceTags = NO_TAGS_LIST as string[];
    else if (c.ServiceTags !== svc?.Tags && c.ServiceName) c.ServiceTags = this.tags(c.ServiceName, c.ServiceTags) ?? c.ServiceTags;
    if (isEmptyObject(c.Definition)) c.Definition = EMPTY as HealthCheck['Definition'];
    return c;
  }

  /** Empties every table (before a re-list). */
  reset(): void {
    this.#names.clear();
  }
}
