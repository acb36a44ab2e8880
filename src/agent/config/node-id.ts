// The node ID: the configured one (validated), else the one persisted in <data_dir>/node-id,
// else a fresh random UUID (written back to the data dir so restarts keep it).
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './error.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Resolves the node ID; with `persist` false nothing is written (validate, dry runs). */
export async function resolveNodeId(configured: string, dataDir: string | null, persist: boolean): Promise<string> {
  if (configured !== '') return checkNodeId(configured);
  if (dataDir === null) return randomUUID();
  const file = join(dataDir, 'node-id');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    return checkNodeId(existing);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  if (persist) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, id, { mode: 0o600 });
  }
  return id;
}

/** Lower-cases a UUID node ID or rejects it as Consul's agent does. */
function checkNodeId(id: string): string {
  if (!UUID.test(id)) throw new ConfigError(`node ID ${JSON.stringify(id)} is not a valid UUID`);
  return id.toLowerCase();
}
