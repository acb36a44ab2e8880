// Gossip encryption on the simulated network: keyring unit behaviour, cluster-wide list /
// install / use / remove with per-node reports, rotation, and refusing joins with a wrong key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Keyring } from '../src/gossip/keyring.ts';
import { generateKey } from '../src/gossip/index.ts';
import { Simulation } from '../src/gossip/simulation.ts';

const K1 = Buffer.alloc(16, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('base64');
const K3 = Buffer.alloc(24, 3).toString('base64');

test('keyring: AES-GCM with any installed key, validation and Serf\'s error texts', () => {
  const a = new Keyring([K1]);
  const b = new Keyring([K2, K1]);
  const aad = Buffer.from('x');
  assert.equal(b.decrypt(a.encrypt(Buffer.from('hello'), aad), aad).toString(), 'hello');
  assert.throws(() => a.decrypt(b.encrypt(Buffer.from('hello'), aad), aad), /No installed keys could decrypt the message/);
  assert.throws(() => new Keyring(['AAAA']), /key size must be 16, 24 or 32 bytes/);
  assert.throws(() => new Keyring(['not base64!']), /Invalid key/);
  assert.throws(() => b.remove(K2), /Removing the primary key is not allowed/);
  assert.throws(() => b.use(K3), /Requested key is not in the keyring/);
  assert.equal(Buffer.from(generateKey(), 'base64').length, 32);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gossip-keys-'));
  try {
    const file = path.join(dir, 'local.keyring');
    const k = new Keyring([K1], file);
    k.install(K2);
    k.use(K2);
    assert.deepEqual(Keyring.load(file)!.list(), { keys: [K2, K1], primary: K2 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cluster-wide list, install, use, remove and rotation with per-node reports', async () => {
  const sim = new Simulation({ seed: 21, base: { encryptKeys: [K1] } });
  await sim.addMany(4);
  assert.ok(await sim.until(() => sim.converged(), 10_000) >= 0, 'encrypted pool converged');
  const kr = sim.nodes.get('node1')!.gossip.keyring;
  const list = await sim.drive(kr.list());
  assert.equal(list.numNodes, 4);
  assert.equal(list.numResp, 4);
  assert.deepEqual(list.keys, { [K1]: 4 });
  assert.deepEqual(list.primaryKeys, { [K1]: 4 });
  assert.deepEqual(Object.keys(list.nodes).sort(), ['node0', 'node1', 'node2', 'node3']);

  const bad = await sim.drive(kr.remove(K1));
  assert.equal(bad.numErr, 4);
  assert.equal(bad.messages.node2, 'Removing the primary key is not allowed');

  const rot = await sim.drive(kr.rotate(K2));
  assert.deepEqual(rot.install.keys, { [K1]: 4, [K2]: 4 });
  assert.deepEqual(rot.use.primaryKeys, { [K2]: 4 });
  const after = await sim.drive(kr.list());
  assert.deepEqual(after.keys, { [K2]: 4 });
  for (const n of sim.nodes.values()) assert.deepEqual(n.gossip.keyring.local(), { keys: [K2], primary: K2 });

  sim.nodes.get('node3')!.gossip.userEvent('after-rotation', 'ok');
  await sim.run(10_000);
  assert.ok(sim.converged(), 'still one pool on the new key');
  for (const n of sim.nodes.values()) assert.ok(n.events.some((e) => e.type === 'user'), `${n.name} got the event`);
});

test('a node with the wrong key, or none, cannot join and the error says why', async () => {
  const sim = new Simulation({ seed: 22, base: { encryptKeys: [K1] } });
  await sim.addMany(3);
  const wrong = await sim.add('wrong', { encryptKeys: [K3] });
  await assert.rejects(sim.joinNow(wrong, ['10.0.0.2:8301']),
    /Failed to join 10\.0\.0\.2:8301: No installed keys could decrypt the message/);
  const plain = await sim.add('plain', { encryptKeys: undefined });
  await assert.rejects(sim.joinNow(plain, ['10.0.0.2:8301']), /Encryption is configured but remote state is not encrypted/);
  await sim.run(5_000);
  const seen = sim.nodes.get('node0')!.gossip.members().map((m) => m.name).sort();
  assert.deepEqual(seen, ['node0', 'node1', 'node2']);
  await assert.rejects(sim.drive(plain.gossip.keyring.list()), /Gossip encryption is not enabled/);
});
