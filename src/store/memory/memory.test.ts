// Runs the shared Store conformance suite against the in-memory backend.
import { runStoreConformance } from '../conformance.ts';
import { MemoryStore } from './memory.ts';

runStoreConformance('memory', async ({ clock }) => {
  const store = new MemoryStore({ clock });
  await store.open();
  return { store, cleanup: () => store.close() };
});
