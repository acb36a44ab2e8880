// Resolver nodes (Consul's getResolverNode): a target followed through its resolver's Redirect
// and DefaultSubset, checked against its Subsets, given its connect timeout, mesh gateway mode
// and subset, and its Failover targets resolved the same way.
import { formatGoDuration } from '../../duration.ts';
import { ChainGraphError, type ChainEntry, type DiscoveryGraphNode } from './types.ts';
import { ChainState, type TargetOpts, type WorkTarget } from './chain-state.ts';
import { canonical, durationMs, pick, pickList, pickObj, pickStr } from './entry-fields.ts';

type Obj = Record<string, unknown>;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** The resolver entry for a service, or the implicit default one. */
function resolverFor(s: ChainState, t: WorkTarget): ChainEntry {
  return s.targetEntry('service-resolver', t) ?? { Kind: 'service-resolver', Name: t.Service };
}

/** True when a resolver sets nothing (Consul's IsDefault). */
function isDefaultResolver(r: ChainEntry): boolean {
  const subsets = pickObj(r, 'Subsets');
  const failover = pickObj(r, 'Failover');
  return !pickStr(r, 'DefaultSubset') && (!subsets || Object.keys(subsets).length === 0) && !pickObj(r, 'Redirect')
    && (!failover || Object.keys(failover).length === 0) && durationMs(pick(r, 'ConnectTimeout')) === 0
    && durationMs(pick(r, 'RequestTimeout')) === 0 && !pickObj(r, 'LoadBalancer');
}

/** The target-choosing fields of a Redirect, Failover or failover target. */
function targetOpts(o: unknown): Partial<TargetOpts> {
  return {
    Service: pickStr(o, 'Service'), ServiceSubset: pickStr(o, 'ServiceSubset'), Namespace: pickStr(o, 'Namespace'),
    Partition: pickStr(o, 'Partition'), Datacenter: pickStr(o, 'Datacenter'),
  };
}

/** Follows redirects and the default subset from `target` to the resolver that finally applies. */
function followRedirects(s: ChainState, start: WorkTarget): { target: WorkTarget; resolver: ChainEntry; cached?: DiscoveryGraphNode } {
  const history = new Set<string>();
  const order: string[] = [];
  let target = start;
  for (;;) {
    const cached = s.resolverNodes.get(target.ID);
    if (cached) return { target, resolver: resolverFor(s, target), cached };
    s.recordServiceProtocol(target.Service, target.Namespace, target.Partition);
    const resolver = resolverFor(s, target);
    order.push(target.ID);
    if (history.has(target.ID)) throw new ChainGraphError(`detected circular resolver redirect: [${order.join(' -> ')}]`);
    history.add(target.ID);
    const redirect = pickObj(resolver, 'Redirect');
    if (redirect) {
      const next = s.rewriteTarget(target, targetOpts(redirect));
      if (next.ID !== target.ID) {
        target = next;
        continue;
      }
    }
    const defaultSubset = pickStr(resolver, 'DefaultSubset');
    if (!target.ServiceSubset && defaultSubset) {
      target = s.rewriteTarget(target, { ServiceSubset: defaultSubset });
      continue;
    }
    return { target, resolver };
  }
}

/** Applies the service's and proxy defaults' mesh gateway mode and the override to a target. */
function applyMeshGateway(s: ChainState, target: WorkTarget): void {
  const defaults = s.targetEntry('service-defaults', target);
  const proxy = s.proxyDefaults();
  let mode = pickStr(pickObj(defaults, 'MeshGateway'), 'Mode');
  let direct = pick(pickObj(defaults, 'TransparentProxy'), 'DialedDirectly') === true;
  if (proxy) {
    if (!mode) mode = pickStr(pickObj(proxy, 'MeshGateway'), 'Mode');
    if (!direct) direct = pick(pickObj(proxy, 'TransparentProxy'), 'DialedDirectly') === true;
  }
  const override = s.req.overrideMeshGateway?.Mode ?? '';
  if (override && mode !== override) {
    mode = override;
    s.customized.meshGateway = true;
  }
  target.MeshGateway = mode ? { Mode: mode } : {};
  target.TransparentProxy = direct ? { DialedDirectly: true } : {};
}

/** Gives an external service (service-defaults ExternalSNI) its SNI; such services may not redirect, subset or fail over. */
function applyExternalSni(s: ChainState, target: WorkTarget, resolver: ChainEntry): void {
  const sni = pickStr(s.targetEntry('service-defaults', target), 'ExternalSNI');
  if (!sni) return;
  target.SNI = sni;
  target.External = true;
  const what = pickObj(resolver, 'Redirect') ? 'redirects'
    : Object.keys(pickObj(resolver, 'Subsets') ?? {}).length ? 'subsets'
      : Object.keys(pickObj(resolver, 'Failover') ?? {}).length ? 'failover' : '';
  if (what) throw new ChainGraphError(`service ${JSON.stringify(target.Service)} has an external SNI set; cannot define ${what} for external services`);
}

/** The resolver node for `start`; with `forFailover` the node is neither recorded nor given failover. */
export function resolverNode(s: ChainState, start: WorkTarget, forFailover = false): DiscoveryGraphNode {
  const { target, resolver, cached } = followRedirects(s, start);
  if (cached) return cached;
  const subsets = pickObj(resolver, 'Subsets') ?? {};
  const subsetName = target.ServiceSubset ?? '';
  if (subsetName && !Object.hasOwn(subsets, subsetName)) {
    throw new ChainGraphError(`service ${JSON.stringify(target.Service)} does not have a subset named ${JSON.stringify(subsetName)}`);
  }
  let timeoutMs = durationMs(pick(resolver, 'ConnectTimeout'));
  if (timeoutMs <= 0) timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  const override = s.req.overrideConnectTimeoutMs ?? 0;
  if (override > 0 && override !== timeoutMs) {
    timeoutMs = override;
    s.customized.connectTimeout = true;
  }
  target.timeoutMs = timeoutMs;
  const requestTimeoutMs = durationMs(pick(resolver, 'RequestTimeout'));
  const node: DiscoveryGraphNode = {
    Type: 'resolver', Name: target.ID,
    Resolver: {
      ConnectTimeout: formatGoDuration(timeoutMs), Default: isDefaultResolver(resolver) || undefined,
      RequestTimeout: requestTimeoutMs > 0 ? Math.round(requestTimeoutMs * 1e6) : undefined, Target: target.ID,
    },
  };
  const lb = pickObj(resolver, 'LoadBalancer');
  if (lb) node.LoadBalancer = canonical(lb);
  target.Subset = subsetName ? canonical(subsets[subsetName] ?? {}) as WorkTarget['Subset'] : {};
  applyExternalSni(s, target, resolver);
  if (target.External) target.MeshGateway = {};
  else applyMeshGateway(s, target);
  s.retained.add(target.ID);
  if (forFailover) return node;
  s.recordNode(node);
  addFailover(s, node, target, resolver);
  return node;
}

/** The failover targets of the section that applies to the target's subset (or `*`), resolved. */
function addFailover(s: ChainState, node: DiscoveryGraphNode, target: WorkTarget, resolver: ChainEntry): void {
  const sections = pickObj(resolver, 'Failover');
  if (!sections) return;
  const section = (sections[target.ServiceSubset ?? ''] ?? sections['*']) as Obj | undefined;
  if (!section) return;
  const candidates: WorkTarget[] = [];
  const datacenters = pickList(section, 'Datacenters') as string[];
  const targets = pickList(section, 'Targets');
  if (datacenters.length > 0) {
    for (const dc of datacenters) candidates.push(s.rewriteTarget(target, { ...targetOpts(section), Datacenter: dc }));
  } else if (targets.length > 0) {
    for (const t of targets) candidates.push(s.rewriteTarget(target, targetOpts(t)));
  } else {
    candidates.push(s.rewriteTarget(target, targetOpts(section)));
  }
  const chosen = candidates.filter((t) => t.ID !== target.ID);
  if (chosen.length === 0) return;
  let policy: unknown = pickObj(section, 'Policy');
  if (!pickStr(policy, 'Mode')) policy = pick(s.proxyDefaults(), 'FailoverPolicy');
  const failover: { Targets?: string[]; Policy?: unknown } = {};
  node.Resolver!.Failover = failover;
  failover.Targets = chosen.map((t) => resolverNode(s, t, true).Resolver!.Target);
  if (policy) failover.Policy = canonical(policy);
}
