// The gossip keyring file (Serf's local.keyring) and Consul's disable_keyring_file: by default
// the keyring is written to the data dir and read back on restart; disabled, no file is read
// or written and the configured key is the keyring.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKey } from './keyring.ts';
import { Simulation } from './simulation.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gossip-keyring-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('by default the keyring is persisted, and a persisted keyring wins over the configured key', async () => {
  const dir = tmp();
  const [k1, k2] = [generateKey(), generateKey()];
  const sim = new Simulation();
  const a = await sim.add('a', { dataDir: dir, encryptKeys: [k1] });
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'local.keyring'), 'utf8')), [k1]);
  await a.gossip.shutdown();
  const b = await sim.add('b', { dataDir: dir, encryptKeys: [k2] });
  assert.equal(b.gossip.keyring.local()?.primary, k1);
  await b.gossip.shutdown();
});

test('disable_keyring_file: no file is written, an existing one is not read', async () => {
  const dir = tmp();
  const [k1, k2] = [generateKey(), generateKey()];
  const sim = new Simulation();
  const a = await sim.add('a', { dataDir: dir, encryptKeys: [k1], disableKeyringFile: true });
  assert.equal(fs.existsSync(path.join(dir, 'local.keyring')), false);
  assert.equal(a.gossip.keyring.local()?.primary, k1);
  await a.gossip.shutdown();
  fs.writeFileSync(path.join(dir, 'local.keyring'), JSON.stringify([k1]));
  const b = await sim.add('b', { dataDir: dir, encryptKeys: [k2], disableKeyringFile: true });
  assert.equal(b.gossip.keyring.local()?.primary, k2);
  await b.gossip.shutdown();
});
