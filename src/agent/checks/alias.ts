// Alias checks (Consul's CheckAlias): mirror the health of another service instance or node
// through an injected source of its checks; critical beats warning beats passing.
import type { Clock, TimerHandle } from '../../clock.ts';
import type { Lifecycle } from './schedule.ts';
import type { CheckStatus, UpdateFn } from './types.ts';

/** Which service (by ID) and/or node the alias mirrors; '' when unset. */
export interface AliasTarget {
  node: string;
  serviceID: string;
}

/** One health check as the alias sees it. */
export interface AliasCheckInfo {
  Node?: string;
  Name: string;
  /** '' for node-level checks. */
  ServiceID: string;
  Status: string;
  Output: string;
}

/** Where alias checks read the aliased health from (local state, or the catalog for a node). */
export interface AliasSource {
  /** The checks to consider: local checks, or every check of `target.node`. Throwing makes the alias critical. */
  checks(target: AliasTarget): AliasCheckInfo[];
  /** Whether the aliased service is registered (consulted only when it has no checks). */
  serviceExists(target: AliasTarget): boolean;
  /** Calls `onChange` whenever those checks may have changed; returns the unsubscribe function. */
  subscribe(target: AliasTarget, onChange: () => void): () => void;
}

/** Consul's maxDurationBetweenUpdates: re-read even without a notification, in case one was missed. */
export const ALIAS_REFRESH_MS = 60_000;

/** Consul's processChecks: the alias status and output for a set of checks. */
export function aliasStatus(target: AliasTarget, checks: AliasCheckInfo[], serviceExists: () => boolean): { status: CheckStatus; output: string } {
  let health: CheckStatus = 'passing';
  let msg = 'No checks found.';
  let serviceFound = false;
  for (const chk of checks) {
    if (target.node !== '' && (chk.Node ?? '').toLowerCase() !== target.node.toLowerCase()) continue;
    const serviceMatch = chk.ServiceID === target.serviceID;
    if (chk.ServiceID !== '' && !serviceMatch) continue;
    if (serviceMatch) serviceFound = true;
    if (chk.Status === 'critical' || chk.Status === 'warning') {
      health = chk.Status;
      msg = `Aliased check ${JSON.stringify(chk.Name)} failing: ${chk.Output}`;
      if (chk.Status === 'critical') break;
    } else if (health === 'passing') {
      msg = 'All checks passing.';
    }
  }
  if (!serviceFound && !serviceExists()) {
    return { status: 'critical', output: `Service ${target.serviceID} could not be found on node ${target.node}` };
  }
  return { status: health, output: msg };
}

/** What an alias runner needs. */
export interface AliasRunnerOptions {
  target: AliasTarget;
  source: AliasSource;
  clock: Clock;
  update: UpdateFn;
}

/** Creates an alias runner: evaluates at start, on every source notification and every minute. */
export function createAliasRunner(opts: AliasRunnerOptions): Lifecycle {
  let unsubscribe: (() => void) | undefined;
  let refresh: TimerHandle | undefined;
  const evaluate = (): void => {
    refresh?.cancel();
    let r: { status: CheckStatus; output: string };
    try {
      r = aliasStatus(opts.target, opts.source.checks(opts.target), () => opts.source.serviceExists(opts.target));
    } catch (err) {
      r = { status: 'critical', output: `Failure checking aliased node or service: ${(err as Error).message}` };
    }
    opts.update(r.status, r.output);
    refresh = opts.clock.setTimer(ALIAS_REFRESH_MS, evaluate);
  };
  return {
    start() {
      if (unsubscribe) return;
      unsubscribe = opts.source.subscribe(opts.target, () => { if (unsubscribe) evaluate(); });
      evaluate();
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      refresh?.cancel();
      refresh = undefined;
    },
  };
}
