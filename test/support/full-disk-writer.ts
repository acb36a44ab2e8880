// Child process for test/store-full-disk.test.ts, run under a file-size limit (prlimit --fsize):
// writes new keys into an EmbeddedStore in argv[2] (checkpointing every 4 frames, the WAL restarted
// by 64) until a write fails, printing each acknowledged key and each store log line as JSON.
import { EmbeddedStore } from '../../src/store/embedded/embedded.ts';

const out = (line: object): void => { process.stdout.write(`${JSON.stringify(line)}\n`); };
const logger = {
  info: (_obj: object, msg: string) => out({ log: msg }),
  error: (obj: object, msg: string) => out({ log: msg, err: String((obj as { err?: unknown }).err) }),
};
const store = new EmbeddedStore({ dir: process.argv[2], logger, checkpoint: { frames: 4, capFrames: 64 } });
await store.open();
const value = Buffer.alloc(3000, 7);
let failed = false;

async function writer(id: number): Promise<void> {
  for (let n = 0; !failed; n++) {
    const key = `k/${id}/${n}`;
    try {
      await store.txn({ success: [{ type: 'put', key, value }] });
      out({ acked: key });
    } catch (err) {
      failed = true;
      out({ failed: String(err) });
    }
  }
}

await Promise.all(Array.from({ length: 8 }, (_, i) => writer(i)));
await store.close();
