// The memory backend: the engine with nothing to persist. Used by -dev and in-process tests.
import { EngineStore, type EngineStoreDeps, type PendingMutation } from '../engine-store.ts';

/** A Store that keeps everything in memory; lost on exit. */
export class MemoryStore extends EngineStore {
  readonly kind = 'memory';
  /** Writes to acknowledge on the next microtask (never during the txn() call that made them). */
  #due: PendingMutation[] = [];
  readonly #ack = (): void => {
    const due = this.#due;
    this.#due = [];
    for (const m of due) m.done();
  };

  constructor(deps: EngineStoreDeps = {}) {
    super(deps);
  }

  async open(): Promise<void> {}

  protected persist(m: PendingMutation): void {
    if (this.#due.length === 0) queueMicrotask(this.#ack);
    this.#due.push(m);
  }
}
