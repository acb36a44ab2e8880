// Child process for test/store-crash.test.ts: opens an EmbeddedStore in the directory given as
// argv[2] and runs many concurrent writers forever, printing each key only after its txn resolved.
// argv[4], `frames,capFrames`: checkpoint that often (so that kills land amid checkpoints and WAL restarts).
import { EmbeddedStore } from '../../src/store/embedded/embedded.ts';

const dir = process.argv[2];
const writers = Number(process.argv[3] ?? 64);
const [frames, capFrames] = (process.argv[4] ?? '').split(',').map(Number);
const store = new EmbeddedStore({ dir, ...(capFrames ? { checkpoint: { frames, capFrames } } : {}) });
await store.open();
process.stdout.write('ready\n');

async function writer(id: number): Promise<never> {
  for (let n = 0; ; n++) {
    const key = `k/${id}/${n}`;
    await store.txn({ success: [{ type: 'put', key, value: Buffer.from(`v-${id}-${n}`) }] });
    // Pipes are written synchronously on Linux: once this returns the parent can read the ack.
    process.stdout.write(`${key}\n`);
  }
}

await Promise.all(Array.from({ length: writers }, (_, i) => writer(i)));
