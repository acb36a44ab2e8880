// Handler groups loaded on first use (issue #9): an area whose modules an agent start need not
// compile is built on the first request routed to it, which awaits one dynamic import; concurrent
// first requests share it, and later requests call the built handlers directly.
import type { Handler } from './router.ts';

/**
 * Handlers named `keys` that build their group with `load` on the first request to any of them.
 * A failed load rejects the requests waiting on it (a 500 with the error, logged by the server)
 * and is tried again by the next request.
 */
export function lazyHandlers<K extends string>(keys: readonly K[], load: () => Promise<Record<K, Handler>>): Record<K, Handler> {
  let group: Record<K, Handler> | undefined;
  let pending: Promise<Record<K, Handler>> | undefined;
  const built = (): Promise<Record<K, Handler>> => (pending ??= load().then(
    (g) => (group = g),
    (err: unknown) => {
      pending = undefined;
      throw err;
    },
  ));
  const out = {} as Record<K, Handler>;
  for (const key of keys) {
    // Once built, the handler itself is called: a held blocking query keeps no frame of this wrapper.
    out[key] = (req) => (group ? group[key](req) : built().then((g) => g[key](req)));
  }
  return out;
}
