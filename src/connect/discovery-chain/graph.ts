// Whole-graph passes over the compiled nodes (Consul's compile.go): loop detection, folding a
// splitter that leads to another splitter into one set of legs, and pruning unreachable nodes.
import { ChainGraphError, type DiscoveryGraphNode, type DiscoverySplit } from './types.ts';

type Nodes = Map<string, DiscoveryGraphNode>;
type Obj = Record<string, unknown>;

function next(node: DiscoveryGraphNode): string[] {
  if (node.Type === 'router') return node.Routes!.map((r) => r.NextNode);
  if (node.Type === 'splitter') return node.Splits!.map((s) => s.NextNode);
  return [];
}

/** Throws when a router or splitter leads back to itself (redirect loops are caught while resolving). */
export function detectCircularReferences(nodes: Nodes, start: string): void {
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (key: string): void => {
    path.push(key);
    if (onPath.has(key)) throw new ChainGraphError(`detected circular reference: [${path.join(' -> ')}]`);
    onPath.add(key);
    const node = nodes.get(key);
    // Consul walks a stack, so the last leg is followed first.
    if (node) for (const k of next(node).reverse()) visit(k);
    onPath.delete(key);
    path.pop();
  };
  visit(start);
}

/** Rounds a weight to hundredths, as Consul's NormalizeServiceSplitWeight does. */
export function normalizeWeight(w: number): number {
  return Math.round(w * 100) / 100;
}

/** Header changes of `base` overridden by those of `over` (Add/Set merged, Remove joined). */
function mergeHeaders(over: unknown, base: unknown): unknown {
  if (!base) return over;
  if (!over) return base;
  const c = over as Obj;
  const p = base as Obj;
  const out: Obj = { ...p, ...c };
  for (const k of ['Add', 'Set']) if (p[k] || c[k]) out[k] = { ...(p[k] as Obj), ...(c[k] as Obj) };
  if (p.Remove || c.Remove) out.Remove = [...new Set([...((p.Remove as string[]) ?? []), ...((c.Remove as string[]) ?? [])])];
  return out;
}

/** The inner leg's definition with the outer leg's header changes merged under it (Consul's MergeParent). */
function mergeParent(inner: Obj, outer: Obj): Obj {
  const out: Obj = { ...inner };
  // Requests pass the outer leg first, so the inner leg's changes win; responses flow back the
  // other way, so the outer leg's win.
  const request = mergeHeaders(inner.RequestHeaders, outer.RequestHeaders);
  const response = mergeHeaders(outer.ResponseHeaders, inner.ResponseHeaders);
  if (request) out.RequestHeaders = request;
  if (response) out.ResponseHeaders = response;
  return out;
}

/** Replaces every leg leading to another splitter by that splitter's legs, with multiplied weights. */
export function flattenSplitters(nodes: Nodes): void {
  for (let changed = true; changed;) {
    changed = false;
    for (const node of nodes.values()) {
      if (node.Type !== 'splitter') continue;
      const fixed: DiscoverySplit[] = [];
      let any = false;
      for (const split of node.Splits!) {
        const inner = nodes.get(split.NextNode);
        if (inner?.Type !== 'splitter') {
          fixed.push(split);
          continue;
        }
        any = true;
        for (const leg of inner.Splits!) {
          fixed.push({
            Definition: mergeParent(leg.Definition, split.Definition),
            Weight: normalizeWeight((split.Weight * leg.Weight) / 100),
            NextNode: leg.NextNode,
          });
        }
      }
      if (any) {
        node.Splits = fixed;
        changed = true;
      }
    }
  }
}

/** Deletes the nodes no longer reachable from the start node. */
export function removeUnusedNodes(nodes: Nodes, start: string): void {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length) {
    const key = todo.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    const node = nodes.get(key);
    if (!node) throw new Error(`compilation references non-retained node ${JSON.stringify(key)}`);
    todo.push(...next(node));
  }
  for (const key of [...nodes.keys()]) if (!seen.has(key)) nodes.delete(key);
}
