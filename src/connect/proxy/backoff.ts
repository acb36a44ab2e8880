// How long the proxy's watches wait after a failed read (Consul's watch.Plan, which its
// connect.Service and AgentConfigWatcher run on): 5 s times the square of the consecutive
// failures, at most 180 s.

const RETRY_INTERVAL_MS = 5_000;
const MAX_BACKOFF_MS = 180_000;

/** The wait after the `failures`-th consecutive failure (1 for the first). */
export function watchRetryMs(failures: number): number {
  return Math.min(RETRY_INTERVAL_MS * failures * failures, MAX_BACKOFF_MS);
}
