// The discovery chain compiler (Consul's discoverychain.Compile): the service's router, the
// splitters below it and the resolvers at the leaves assembled into a graph of nodes and
// targets, checked for loops and for routing on protocols that cannot route, then rendered.
import { createHash } from 'node:crypto';
import { formatGoDuration } from '../../duration.ts';
import {
  ChainGraphError, type CompileRequest, type CompiledDiscoveryChain, type DiscoveryGraphNode, type DiscoveryTarget,
} from './types.ts';
import { ChainState, nodeKey, serviceIdString, type WorkTarget } from './chain-state.ts';
import { resolverNode } from './resolver-node.ts';
import { canonical, pick, pickList, pickObj, pickStr } from './entry-fields.ts';
import { detectCircularReferences, flattenSplitters, removeUnusedNodes } from './graph.ts';

/** True for the protocols that allow routers and splitters (Consul's IsProtocolHTTPLike). */
export function isHttpLike(protocol: string): boolean {
  return ['http', 'http2', 'grpc'].includes(protocol);
}

/** Compiles the chain of `req.serviceName`; throws ChainGraphError for graphs Consul refuses. */
export function compileChain(req: CompileRequest): CompiledDiscoveryChain {
  const disable = req.overrideProtocol ? !isHttpLike(req.overrideProtocol) : false;
  const s = new ChainState(req, disable);
  const startNode = assemble(s);
  detectCircularReferences(s.nodes, startNode);
  flattenSplitters(s.nodes);
  removeUnusedNodes(s.nodes, startNode);
  if (!isHttpLike(s.protocol) && s.usesAdvancedRouting) {
    throw new ChainGraphError(
      `discovery chain ${JSON.stringify(req.serviceName)} uses a protocol ${JSON.stringify(s.protocol)} that does not permit advanced routing or splitting behavior`,
    );
  }
  if (req.overrideProtocol && req.overrideProtocol !== s.protocol) {
    s.protocol = req.overrideProtocol;
    s.customized.protocol = true;
  }
  return render(s, startNode);
}

/** Builds the nodes from the top of the chain; returns the start node's key. */
function assemble(s: ChainState): string {
  const name = s.req.serviceName;
  const defaults = s.entry('service-defaults', name);
  const extensions = [...pickList(s.proxyDefaults(), 'EnvoyExtensions'), ...pickList(defaults, 'EnvoyExtensions')];
  s.extensions = extensions;
  s.serviceMeta = pickObj(defaults, 'Meta') as Record<string, string> | undefined;
  let router = s.entry('service-router', name);
  if (router && s.disableAdvancedRouting) {
    router = undefined;
    s.customized.protocol = true;
  }
  if (!router) return nodeKey(splitterOrResolver(s, s.newTarget({ Service: name })));
  const node: DiscoveryGraphNode = { Type: 'router', Name: serviceIdString(name, s.namespace, s.partition), Routes: [] };
  s.usesAdvancedRouting = true;
  s.recordServiceProtocol(name);
  for (const route of pickList(router, 'Routes')) {
    const dest = pickObj(route, 'Destination');
    const service = pickStr(dest, 'Service') || name;
    const opts = { Service: service, Namespace: pickStr(dest, 'Namespace') || s.namespace, Partition: pickStr(dest, 'Partition') || s.partition };
    const subset = pickStr(dest, 'ServiceSubset');
    const next = subset ? resolverNode(s, s.newTarget({ ...opts, ServiceSubset: subset })) : splitterOrResolver(s, s.newTarget(opts));
    node.Routes!.push({ Definition: canonical(route) as Record<string, unknown>, NextNode: nodeKey(next) });
  }
  const fallback = splitterOrResolver(s, s.newTarget({ Service: name, Namespace: s.namespace, Partition: s.partition }));
  node.Routes!.push({
    Definition: {
      Match: { HTTP: { PathPrefix: '/' } },
      Destination: { Service: name, Namespace: s.namespace, Partition: s.partition },
    },
    NextNode: nodeKey(fallback),
  });
  s.recordNode(node);
  return nodeKey(node);
}

function splitterOrResolver(s: ChainState, target: WorkTarget): DiscoveryGraphNode {
  return splitterNode(s, target.Service, target.Namespace, target.Partition) ?? resolverNode(s, target);
}

/** The splitter node of `service`, built once, or null when it has no (usable) splitter. */
function splitterNode(s: ChainState, service: string, namespace = s.namespace, partition = s.partition): DiscoveryGraphNode | null {
  const name = serviceIdString(service, namespace, partition);
  const prev = s.splitterNodes.get(name);
  if (prev) return prev;
  let splitter = s.entry('service-splitter', service, namespace, partition);
  if (splitter && s.disableAdvancedRouting) {
    splitter = undefined;
    s.customized.protocol = true;
  }
  if (!splitter) return null;
  const node: DiscoveryGraphNode = { Type: 'splitter', Name: name, Splits: [] };
  // Recorded before recursing, so a loop below meets this node instead of recursing forever.
  s.recordNode(node);
  let hasHashLb = false;
  for (const split of pickList(splitter, 'Splits')) {
    const weight = Number(pick(split, 'Weight') ?? 0);
    const entry = { Definition: canonical(split) as Record<string, unknown>, Weight: weight, NextNode: '' };
    entry.Definition = { Weight: weight, ...entry.Definition };
    node.Splits!.push(entry);
    const svc = pickStr(split, 'Service') || service;
    const subset = pickStr(split, 'ServiceSubset');
    const ns = pickStr(split, 'Namespace') || namespace;
    const ap = pickStr(split, 'Partition') || partition;
    if ((svc !== service || ns !== namespace || ap !== partition) && !subset) {
      const next = splitterNode(s, svc, ns, ap);
      if (next) {
        entry.NextNode = nodeKey(next);
        continue;
      }
    }
    const next = resolverNode(s, s.newTarget({ Service: svc, ServiceSubset: subset, Namespace: ns, Partition: ap }));
    entry.NextNode = nodeKey(next);
    // One hash policy per route: the first hash-based balancer among the legs applies.
    const lb = next.LoadBalancer as Record<string, unknown> | undefined;
    if (!hasHashLb && lb && ['ring_hash', 'maglev'].includes(String(lb.Policy ?? ''))) {
      node.LoadBalancer = lb;
      hasHashLb = true;
    }
  }
  s.usesAdvancedRouting = true;
  return node;
}

/** True when the chain is only the default resolution of the service itself. */
function isDefaultChain(s: ChainState, startNode: string): boolean {
  const node = s.nodes.get(startNode);
  if (!node || node.Type !== 'resolver' || !node.Resolver!.Default) return false;
  const t = s.targets.get(node.Resolver!.Target)!;
  return t.Service === s.req.serviceName && t.Namespace === s.namespace && t.Partition === s.partition;
}

/** The customization hash: 8 hex digits over the overrides that changed the result. */
function customizationHash(s: ChainState): string | undefined {
  const c = s.customized;
  if (!c.meshGateway && !c.protocol && !c.connectTimeout) return undefined;
  const parts = {
    mesh: c.meshGateway ? s.req.overrideMeshGateway?.Mode ?? '' : '',
    protocol: c.protocol ? s.req.overrideProtocol ?? '' : '',
    timeout: c.connectTimeout ? s.req.overrideConnectTimeoutMs ?? 0 : 0,
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 8);
}

function renderTarget(t: WorkTarget): DiscoveryTarget {
  const { timeoutMs, ...rest } = t;
  return { ConnectTimeout: timeoutMs ? formatGoDuration(timeoutMs) : undefined, ...rest };
}

function render(s: ChainState, startNode: string): CompiledDiscoveryChain {
  const nodes: Record<string, DiscoveryGraphNode> = {};
  for (const key of [...s.nodes.keys()].sort()) nodes[key] = s.nodes.get(key)!;
  const targets: Record<string, DiscoveryTarget> = {};
  for (const id of [...s.retained].sort()) targets[id] = renderTarget(s.targets.get(id)!);
  const meta = s.serviceMeta && Object.keys(s.serviceMeta).length ? s.serviceMeta : undefined;
  return {
    ServiceName: s.req.serviceName, Namespace: s.namespace, Partition: s.partition, Datacenter: s.req.datacenter,
    CustomizationHash: customizationHash(s), Default: isDefaultChain(s, startNode) || undefined, Protocol: s.protocol || undefined,
    ServiceMeta: meta, EnvoyExtensions: s.extensions.length ? s.extensions : undefined, StartNode: startNode,
    Nodes: nodes, Targets: targets,
  };
}
