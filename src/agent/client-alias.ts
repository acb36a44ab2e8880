// Alias checks on a client agent that mirror another node: that node's checks are watched with a
// blocking query through a server (Consul's alias check calling Health.NodeChecks) and cached,
// so the alias reads them synchronously and is told when they change.
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { AliasCheckInfo } from './checks/index.ts';
import type { ServerCall } from './local/remote-target.ts';

const RETRY_MS = 1000;
const WAIT = '5m';

interface Watch {
  checks?: AliasCheckInfo[];
  index: number;
  listeners: Set<() => void>;
  timer?: TimerHandle;
}

/** Watches other nodes' checks for alias checks; a watch runs while someone listens. */
export class RemoteNodeChecks {
  readonly #watches = new Map<string, Watch>();
  readonly #d: { call: ServerCall; token: () => string; clock: Clock; logger: Logger };

  constructor(deps: { call: ServerCall; token: () => string; clock: Clock; logger: Logger }) {
    this.#d = deps;
  }

  /** The node's checks as last seen; throws until the first answer arrives. */
  checks(node: string): AliasCheckInfo[] {
    const checks = this.#watches.get(node)?.checks;
    if (!checks) throw new Error(`no health information for node ${JSON.stringify(node)} yet`);
    return checks;
  }

  /** Calls `onChange` when the node's checks change; the watch stops with its last listener. */
  subscribe(node: string, onChange: () => void): () => void {
    let w = this.#watches.get(node);
    if (!w) {
      w = { index: 0, listeners: new Set() };
      this.#watches.set(node, w);
      void this.#loop(node, w);
    }
    w.listeners.add(onChange);
    return () => {
      w.listeners.delete(onChange);
      if (w.listeners.size > 0) return;
      w.timer?.cancel();
      this.#watches.delete(node);
    };
  }

  async #loop(node: string, w: Watch): Promise<void> {
    while (this.#watches.get(node) === w) {
      try {
        const res = await this.#d.call('GET', `/v1/health/node/${encodeURIComponent(node)}?index=${w.index}&wait=${WAIT}`, this.#d.token());
        if (res.status !== 200) throw new Error(res.body.toString('utf8').trim() || `server answered ${res.status}`);
        const index = Number(res.headers['X-Consul-Index'] ?? 0);
        // An index that went backwards (a restore, another store) starts over, as Consul's blocking clients do.
        w.index = index > w.index ? index : index < w.index ? 0 : w.index;
        w.checks = JSON.parse(res.body.toString('utf8')) as AliasCheckInfo[];
        for (const l of w.listeners) l();
      } catch (err) {
        this.#d.logger.warn({ node, error: (err as Error).message }, 'alias check: reading the aliased node failed');
        await new Promise<void>((resolve) => { w.timer = this.#d.clock.setTimer(RETRY_MS, resolve); });
      }
    }
  }
}
