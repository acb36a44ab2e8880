// `proconsul services export` against a real dev agent: the exported-services entry created,
// then extended without duplicating consumers, other services kept, the CAS write, and
// Consul's validation texts and exit codes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliAgent } from './support/cli.ts';

interface Entry { Services: { Name: string; Namespace?: string; Consumers: { Peer?: string; Partition?: string }[] }[]; ModifyIndex: number }

describe('services export', () => {
  const h = cliAgent();
  const entry = async (): Promise<Entry | null> => {
    const r = await fetch(`http://${h.agent.httpAddr}/v1/config/exported-services/default`);
    return r.status === 404 ? null : (await r.json() as Entry);
  };

  test('creates the entry, then adds only the missing consumers and keeps other services', async () => {
    assert.equal(await entry(), null);
    const first = await h.cli(['services', 'export', '-name=web', '-consumer-peers=west,east']);
    assert.deepEqual(first, { code: 0, out: 'Successfully exported service "web" to cluster peers "west,east"\n', err: '' });
    assert.deepEqual((await entry())?.Services, [{ Name: 'web', Consumers: [{ Peer: 'west' }, { Peer: 'east' }] }]);

    const db = await h.cli(['services', 'export', '-name', 'db', '-consumer-peers', 'east']);
    assert.equal(db.code, 0, db.err);
    const again = await h.cli(['services', 'export', '-name=web', '-consumer-peers=east,north']);
    assert.equal(again.out, 'Successfully exported service "web" to cluster peers "east,north"\n');
    assert.deepEqual((await entry())?.Services, [
      { Name: 'web', Consumers: [{ Peer: 'west' }, { Peer: 'east' }, { Peer: 'north' }] },
      { Name: 'db', Consumers: [{ Peer: 'east' }] },
    ]);
    const listed = await h.cli(['services', 'exported-services', '-format=json']);
    assert.deepEqual(JSON.parse(listed.out), [
      { Service: 'db', Consumers: { Peers: ['east'] } },
      { Service: 'web', Consumers: { Peers: ['east', 'north', 'west'] } },
    ]);
  });

  test('the write is a check-and-set on the index it read', async () => {
    const before = await entry();
    assert.ok(before);
    const r = await h.cli(['services', 'export', '-name=api', '-consumer-peers=west']);
    assert.equal(r.code, 0, r.err);
    const after = await entry();
    assert.ok(after && after.ModifyIndex > before.ModifyIndex);
    // A CAS against the old index (what a concurrent export would send) is refused by the agent.
    const stale = await fetch(`http://${h.agent.httpAddr}/v1/config?cas=${before.ModifyIndex}`, {
      method: 'PUT', body: JSON.stringify({ Kind: 'exported-services', Name: 'default', Services: [] }),
    });
    assert.equal(await stale.text(), 'false');
  });

  test("-partition and -namespace (Consul's multi-tenancy flags) are taken and sent: the entry of the partition, the service of the namespace", async () => {
    const r = await h.cli(['services', 'export', '-name=cache', '-consumer-peers=west', '-partition=default']);
    assert.deepEqual(r, { code: 0, out: 'Successfully exported service "cache" to cluster peers "west"\n', err: '' });
    assert.deepEqual((await entry())?.Services.find((s) => s.Name === 'cache'), { Name: 'cache', Consumers: [{ Peer: 'west' }] });
    // exported-services is partition-level: a namespace's export lands in the partition's entry, naming the namespace.
    const ns = await h.cli(['services', 'export', '-name=cache', '-consumer-peers=east', '-namespace=team']);
    assert.deepEqual(ns, { code: 0, out: 'Successfully exported service "cache" to cluster peers "east"\n', err: '' });
    assert.deepEqual((await entry())?.Services.filter((s) => s.Name === 'cache'), [
      { Name: 'cache', Consumers: [{ Peer: 'west' }] },
      { Name: 'cache', Namespace: 'team', Consumers: [{ Peer: 'east' }] },
    ]);
    const missing = await h.cli(['services', 'export', '-name=cache', '-consumer-peers=west', '-partition=nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /Partition "nope" does not exist/);
  });

  test("Consul's validation texts", async () => {
    assert.deepEqual(await h.cli(['services', 'export', '-consumer-peers=a']), { code: 1, out: '', err: 'Missing the required -name flag\n' });
    assert.deepEqual(await h.cli(['services', 'export', '-name=web']),
      { code: 1, out: '', err: 'Missing the required -consumer-peers or -consumer-partitions flag\n' });
    assert.deepEqual(await h.cli(['services', 'export', '-name=web', '-consumer-peers=a,,b']), { code: 1, out: '', err: 'Invalid peer ""\n' });
    assert.deepEqual(await h.cli(['services', 'export', '-name=web', '-consumer-partitions=,']), { code: 1, out: '', err: 'Invalid partition ""\n' });
    const bad = await h.cli(['services', 'export', '-bogus']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^flag provided but not defined: -bogus\n/);
  });

  test('an agent that cannot be reached is reported as Consul does', async () => {
    const io = await h.cli(['services', 'export', '-name=web', '-consumer-peers=a', '-http-addr=127.0.0.1:1']);
    assert.equal(io.code, 1);
    assert.match(io.err, /^Error reading config entry exported-services\/default: /);
  });
});
