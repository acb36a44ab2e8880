// Choosing an instance of a target as a resolver's LoadBalancer says (Consul's Envoy cluster
// lb_policy and route hash policies): round robin by default, random, least request (the fewest
// in-flight of ChoiceCount random picks), and ring_hash/maglev as a consistent hash of the
// request's header, cookie, query parameter or source address (rendezvous hashing).
import { createHash } from 'node:crypto';
import { pick, pickList, pickObj, pickStr } from '../discovery-chain/index.ts';
import type { L7Request } from './l7-route.ts';

/** What one target remembers between picks. */
export interface BalanceState {
  /** The next round-robin position. */
  next: number;
  /** Requests in flight per instance key. */
  inflight: Map<string, number>;
}

/** A new, empty balance state. */
export function balanceState(): BalanceState {
  return { next: 0, inflight: new Map() };
}

function cookie(header: string | string[] | undefined, name: string): string | undefined {
  for (const part of String(header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i !== -1 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The hash key of a request under the balancer's HashPolicies; undefined when no policy yields one. */
export function hashKey(lb: unknown, req: L7Request): string | undefined {
  const parts: string[] = [];
  for (const p of pickList(lb, 'HashPolicies')) {
    let v: string | undefined;
    const name = pickStr(p, 'FieldValue');
    if (pick(p, 'SourceIP') === true) v = req.sourceIp;
    else if (pickStr(p, 'Field') === 'header') v = [req.headers[name.toLowerCase()] ?? []].flat().join(',') || undefined;
    else if (pickStr(p, 'Field') === 'cookie') v = cookie(req.headers.cookie, name);
    else if (pickStr(p, 'Field') === 'query_parameter') v = req.query.get(name) ?? undefined;
    if (v === undefined) continue;
    parts.push(v);
    // A terminal policy that produced a value ends the list (Envoy's short-circuit).
    if (pick(p, 'Terminal') === true) break;
  }
  return parts.length ? parts.join('\u0000') : undefined;
}

function score(key: string, instance: string): bigint {
  return createHash('sha256').update(key).update('\u0000').update(instance).digest().readBigUInt64BE(0);
}

/**
 * The index among `keys` (one per instance, stable across reads) of the instance to send `req` to.
 */
export function chooseInstance(keys: readonly string[], lb: unknown, req: L7Request, state: BalanceState, random: () => number): number {
  const n = keys.length;
  const policy = pickStr(lb, 'Policy');
  if (policy === 'random') return Math.floor(random() * n);
  if (policy === 'least_request') {
    const choices = Math.max(2, Number(pick(pickObj(lb, 'LeastRequestConfig'), 'ChoiceCount') ?? 2) || 2);
    let best = Math.floor(random() * n);
    for (let i = 1; i < choices; i++) {
      const c = Math.floor(random() * n);
      if ((state.inflight.get(keys[c]) ?? 0) < (state.inflight.get(keys[best]) ?? 0)) best = c;
    }
    return best;
  }
  if (policy === 'ring_hash' || policy === 'maglev') {
    const key = hashKey(lb, req);
    if (key !== undefined) {
      let best = 0;
      let top = -1n;
      for (let i = 0; i < n; i++) {
        const s = score(key, keys[i]);
        if (s > top) [best, top] = [i, s];
      }
      return best;
    }
    return Math.floor(random() * n);
  }
  return state.next++ % n;
}

/** Counts a request in flight to instance `key`; the returned function (idempotent) ends it. */
export function hold(state: BalanceState, key: string): () => void {
  state.inflight.set(key, (state.inflight.get(key) ?? 0) + 1);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    const n = (state.inflight.get(key) ?? 1) - 1;
    if (n > 0) state.inflight.set(key, n);
    else state.inflight.delete(key);
  };
}
