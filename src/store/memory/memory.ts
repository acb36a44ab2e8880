// The memory backend: the engine with nothing to persist. Used by -dev and in-process tests.
import { EngineStore, type EngineStoreDeps, type Mutation } from '../engine-store.ts';

/** A Store that keeps everything in memory; lost on exit. */
export class MemoryStore extends EngineStore {
  readonly kind = 'memory';

  constructor(deps: EngineStoreDeps = {}) {
    super(deps);
  }

  async open(): Promise<void> {}

  protected persist(_m: Mutation): Promise<void> {
    return Promise.resolve();
  }
}
