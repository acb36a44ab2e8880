// The compiler's working state (one compilation): entry lookups with defaults, the chain's
// protocol, the nodes and targets built so far, and target naming (IDs and SNI as Consul's
// structs.DiscoveryTarget and connect.TargetSNI write them).
import { ChainGraphError, type ChainEntry, type CompileRequest, type DiscoveryGraphNode, type DiscoveryTarget } from './types.ts';
import { pick, pickObj, pickStr } from './entry-fields.ts';

/** The parts of a target the compiler chooses (Consul's DiscoveryTargetOpts). */
export interface TargetOpts {
  Service: string;
  ServiceSubset?: string;
  Namespace?: string;
  Partition?: string;
  Datacenter?: string;
}

/** Working target: the wire target plus its connect timeout in ms once resolved. */
export type WorkTarget = DiscoveryTarget & { timeoutMs?: number };

/** Which overrides changed the result (Consul's customizationMarkers). */
export interface Customized { meshGateway: boolean; protocol: boolean; connectTimeout: boolean }

const orDefault = (v: string | undefined, d: string): string => (v ? v : d);

/** A target's ID: `[<subset>.]<service>.<namespace>.<partition>.<datacenter>`. */
export function targetId(o: Required<TargetOpts>): string {
  const base = `${o.Service}.${o.Namespace}.${o.Partition}.${o.Datacenter}`;
  return o.ServiceSubset ? `${o.ServiceSubset}.${base}` : base;
}

/** The SNI of a mesh target (connect.ServiceSNI): `internal` in the default partition, `internal-v1` elsewhere. */
export function targetSni(o: Required<TargetOpts>, trustDomain: string): string {
  const sub = o.ServiceSubset ? `${o.ServiceSubset}.` : '';
  const ns = o.Namespace || 'default';
  if (!o.Partition || o.Partition === 'default') return `${sub}${o.Service}.${ns}.${o.Datacenter}.internal.${trustDomain}`;
  return `${sub}${o.Service}.${ns}.${o.Partition}.${o.Datacenter}.internal-v1.${trustDomain}`;
}

/** Mutable state of one compilation. */
export class ChainState {
  readonly req: CompileRequest;
  readonly namespace: string;
  readonly partition: string;
  protocol = '';
  usesAdvancedRouting = false;
  readonly disableAdvancedRouting: boolean;
  readonly customized: Customized = { meshGateway: false, protocol: false, connectTimeout: false };
  readonly nodes = new Map<string, DiscoveryGraphNode>();
  readonly splitterNodes = new Map<string, DiscoveryGraphNode>();
  readonly resolverNodes = new Map<string, DiscoveryGraphNode>();
  readonly targets = new Map<string, WorkTarget>();
  readonly retained = new Set<string>();
  /** Envoy extensions of proxy-defaults then service-defaults. */
  extensions: unknown[] = [];
  /** The Meta of the chain service's service-defaults. */
  serviceMeta: Record<string, string> | undefined;

  constructor(req: CompileRequest, disableAdvancedRouting: boolean) {
    this.req = req;
    this.namespace = req.namespace || 'default';
    this.partition = req.partition || 'default';
    this.disableAdvancedRouting = disableAdvancedRouting;
  }

  /** The entry of `kind` for `service` in a namespace (the chain's when absent), if one exists. */
  entry(kind: string, service: string, namespace = this.namespace, partition = this.partition): ChainEntry | undefined {
    return this.req.entries.get(kind, service, namespace, partition);
  }

  /** The entry of `kind` for a target's service, in the target's namespace and partition. */
  targetEntry(kind: string, t: { Service: string; Namespace: string; Partition: string }): ChainEntry | undefined {
    return this.entry(kind, t.Service, t.Namespace, t.Partition);
  }

  /** The partition's proxy-defaults entry. */
  proxyDefaults(): ChainEntry | undefined {
    return this.entry('proxy-defaults', 'global', 'default', this.partition);
  }

  /** Records a node under its map key `<Type>:<Name>`. */
  recordNode(node: DiscoveryGraphNode): void {
    if (node.Type === 'splitter') this.splitterNodes.set(node.Name, node);
    if (node.Type === 'resolver') this.resolverNodes.set(node.Resolver!.Target, node);
    this.nodes.set(nodeKey(node), node);
  }

  /** Adds `service`'s protocol (service-defaults, else proxy-defaults Config.protocol, else tcp); all must agree. */
  recordServiceProtocol(service: string, namespace = this.namespace, partition = this.partition): void {
    const defaults = this.entry('service-defaults', service, namespace, partition);
    let protocol = '';
    if (defaults) protocol = pickStr(defaults, 'Protocol');
    else protocol = String(pick(pickObj(this.proxyDefaults(), 'Config'), 'protocol') ?? '');
    protocol = protocol ? protocol.toLowerCase() : 'tcp';
    if (!this.protocol) this.protocol = protocol;
    else if (this.protocol !== protocol) {
      throw new ChainGraphError(
        `discovery chain ${JSON.stringify(this.req.serviceName)} uses inconsistent protocols; service ${JSON.stringify(service)} has ${JSON.stringify(protocol)} which is not ${JSON.stringify(this.protocol)}`,
      );
    }
  }

  /** The target for `opts` (empty parts from the evaluation context), created once per ID. */
  newTarget(opts: TargetOpts): WorkTarget {
    const o: Required<TargetOpts> = {
      Service: opts.Service, ServiceSubset: opts.ServiceSubset ?? '',
      Namespace: orDefault(opts.Namespace, this.namespace), Partition: orDefault(opts.Partition, this.partition),
      Datacenter: orDefault(opts.Datacenter, this.req.datacenter),
    };
    const id = targetId(o);
    const prev = this.targets.get(id);
    if (prev) return prev;
    const sni = targetSni(o, this.req.trustDomain);
    const t: WorkTarget = {
      ID: id, Service: o.Service, ServiceSubset: o.ServiceSubset || undefined, Namespace: o.Namespace,
      Partition: o.Partition, Datacenter: o.Datacenter, MeshGateway: {}, Subset: {}, TransparentProxy: {},
      SNI: sni, Name: sni,
    };
    this.targets.set(id, t);
    return t;
  }

  /** `t` with the parts `opts` sets replaced; another service drops the subset (Consul's rewriteTarget). */
  rewriteTarget(t: WorkTarget, opts: Partial<TargetOpts>): WorkTarget {
    const merged: TargetOpts = {
      Service: t.Service, ServiceSubset: t.ServiceSubset, Namespace: t.Namespace, Partition: t.Partition, Datacenter: t.Datacenter,
    };
    if (opts.Service && opts.Service !== merged.Service) {
      merged.Service = opts.Service;
      merged.ServiceSubset = '';
    }
    if (opts.ServiceSubset) merged.ServiceSubset = opts.ServiceSubset;
    if (opts.Partition) merged.Partition = opts.Partition;
    if (opts.Namespace) merged.Namespace = opts.Namespace;
    if (opts.Datacenter) merged.Datacenter = opts.Datacenter;
    return this.newTarget(merged);
  }
}

/** A node's key in Nodes. */
export const nodeKey = (n: { Type: string; Name: string }): string => `${n.Type}:${n.Name}`;

/** Consul's serviceIDString: `<service>.<namespace>.<partition>`. */
export const serviceIdString = (service: string, namespace: string, partition: string): string => `${service}.${namespace}.${partition}`;
