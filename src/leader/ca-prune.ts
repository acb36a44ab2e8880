// Leader duty: prune rotated-out CA roots (Consul's runCARootPruning / pruneCARoots). Every hour
// the leader drops each inactive root whose RotatedOutAt lies more than twice the leaf TTL in the
// past (every leaf it signed has expired by then), with its private key, in one transaction.
import type { CARoot, CASettings } from '../connect/index.ts';
import type { EndpointDeps } from '../endpoint/index.ts';
import type { TimerHandle } from '../clock.ts';
import type { Compare, Op } from '../store/index.ts';
import type { LeaderLoop } from './loops.ts';

/** Consul's caRootPruneInterval. */
export const CA_ROOT_PRUNE_INTERVAL_MS = 3_600_000;

/**
 * Deletes the rotated-out roots that have outlived twice the leaf TTL; returns their IDs. A root
 * changed meanwhile keeps the transaction from applying (nothing is pruned until the next run).
 */
export async function pruneCARoots(deps: EndpointDeps, ca: CASettings): Promise<string[]> {
  if (!ca.ok) return [];
  const now = deps.clock.now();
  const roots = deps.replica.caRoots.all() as unknown as CARoot[];
  let expired = roots.filter((r) => !r.Active && r.RotatedOutAt && now - Date.parse(r.RotatedOutAt) > 2 * ca.config.leafCertTtlMs);
  if (expired.length === 0) return [];
  // A secondary datacenter whose new intermediate the primary refused still signs with the one the
  // rotated-out root issued (leader/ca-secondary.ts): that root stays listed so its leaves verify.
  const active = roots.find((r) => r.Active);
  if (active?.IntermediateCerts?.length) {
    const [{ X509Certificate }, { signingCert }] = await Promise.all([import('node:crypto'), import('../connect/leaf-cert.ts')]);
    const signing = signingCert(active);
    if (signing !== active.RootCert) {
      const cert = new X509Certificate(signing);
      expired = expired.filter((r) => !cert.checkIssued(new X509Certificate(r.RootCert)));
      if (expired.length === 0) return [];
    }
  }
  const compares: Compare[] = expired.map((r) => ({ key: `ca/root/${r.ID}`, target: 'modRevision', op: '=', value: r.ModifyIndex }));
  const success: Op[] = expired.flatMap((r): Op[] => [{ type: 'delete', key: `ca/root/${r.ID}` }, { type: 'delete', key: `ca/key/${r.ID}` }]);
  const res = await deps.store.txn({ compares, success });
  if (!res.succeeded) return [];
  await deps.replica.waitFor(res.revision);
  const log = deps.logger.child({ sub: 'connect.ca' });
  for (const r of expired) log.info({ id: r.ID }, 'pruning old unused root CA');
  return expired.map((r) => r.ID);
}

/** The pruning loop as a leader duty: a run every CA_ROOT_PRUNE_INTERVAL_MS while this server leads. */
export function caRootPruning(deps: EndpointDeps, ca: () => CASettings): LeaderLoop {
  let timer: TimerHandle | undefined;
  // Each term of leadership arms its own chain of runs; a run that ends after its term is over
  // (leadership lost, maybe regained meanwhile) arms nothing.
  let terms = 0;
  let term = 0;
  const arm = (t: number): void => {
    timer = deps.clock.setTimer(CA_ROOT_PRUNE_INTERVAL_MS, () => {
      pruneCARoots(deps, ca())
        .catch((err: unknown) => deps.logger.error({ error: (err as Error).message }, 'error pruning CA roots'))
        .finally(() => { if (term === t) arm(t); });
    });
  };
  const stop = (): void => {
    term = 0;
    timer?.cancel();
    timer = undefined;
  };
  return {
    name: 'ca-root-pruning',
    start: async () => {
      stop();
      term = ++terms;
      arm(term);
    },
    stop,
  };
}
