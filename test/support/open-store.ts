// Child process for test/store-migrate-full-disk.test.ts, run under a file-size limit (prlimit
// --fsize) or killed mid-open: opens the EmbeddedStore in argv[2] (migrating an older format) and prints
// { opening } first, then the store's log lines ({ log, err }), then { opened, keys } or { error }.
import { EmbeddedStore } from '../../src/store/embedded/embedded.ts';

const out = (line: object): void => { process.stdout.write(`${JSON.stringify(line)}\n`); };
const logger = {
  info: (_obj: object, msg: string) => out({ log: msg }),
  error: (obj: object, msg: string) => out({ log: msg, err: String((obj as { err?: unknown }).err) }),
};
const store = new EmbeddedStore({ dir: process.argv[2], logger });
out({ opening: true });
try {
  await store.open();
  out({ opened: true, keys: (await store.range('')).kvs.length });
  await store.close();
} catch (err) {
  out({ error: (err as Error).message });
}
