// The agent's watches as agent.ts and client.ts hold them: watches.ts brings the API client and the
// CLI's watch plans (≈ 30 modules), which only an agent whose configuration has `watches` needs, so
// it is loaded on the first reload that has some (issue #9, start-up).
import { createRequire } from 'node:module';
import type { RuntimeConfig } from './config/runtime.ts';
import type { AgentWatches as Watches, WatchDeps } from './watches.ts';

const require = createRequire(import.meta.url);

/** The running watch plans of an agent (watches.ts's AgentWatches, made on first need). */
export class AgentWatches {
  readonly #deps: WatchDeps;
  #impl: Watches | undefined;

  constructor(deps: WatchDeps) {
    this.#deps = deps;
  }

  /** Stops the current plans and starts the configuration's; throws (leaving none running) on an invalid watch. */
  reload(config: RuntimeConfig): void {
    const raw = config.raw.watches;
    if (this.#impl === undefined && !(Array.isArray(raw) && raw.length > 0)) return;
    this.#impl ??= new (require('./watches.ts') as typeof import('./watches.ts')).AgentWatches(this.#deps);
    this.#impl.reload(config);
  }

  /** Stops every plan. */
  stop(): void {
    this.#impl?.stop();
  }
}
