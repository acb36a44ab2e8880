// `proconsul catalog …` end to end: the CLI runs in-process with a capturing io against a real
// dev agent whose catalog is filled through /v1/catalog/register, checking Consul's table
// layouts, messages and exit codes.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { cliAgent } from './support/cli.ts';

describe('catalog commands against a dev agent', () => {
  const dev = cliAgent();
  const { cli } = dev;
  let ownId: string;

  before(async () => {
    const client = dev.client;
    await client.catalog.register({
      Node: 'web-node-1', ID: '4b2e3c1a-1111-2222-3333-444455556666', Address: '10.0.0.11',
      TaggedAddresses: { wan: '198.51.100.1', lan: '10.0.0.11' }, NodeMeta: { rack: 'r1', env: 'prod' },
      Service: { ID: 'web-1', Service: 'web', Tags: ['v2', 'primary'], Port: 8080 },
    });
    await client.catalog.register({
      Node: 'db-node-long-name', Address: '10.0.0.12', NodeMeta: { rack: 'r2' },
      Service: { ID: 'db', Service: 'db', Tags: ['pg'], Port: 5432 },
    });
    await client.catalog.register({ Node: 'db-node-long-name', Address: '10.0.0.12', NodeMeta: { rack: 'r2' }, Service: { ID: 'web-2', Service: 'web', Tags: ['v1'], Port: 8081 } });
    ownId = (await client.catalog.nodes()).data.find((n) => n.Node === 'test-node')!.ID;
  });

  test('datacenters prints one per line', async () => {
    assert.deepEqual(await cli(['catalog', 'datacenters']), { code: 0, out: 'dc1\n', err: '' });
    assert.deepEqual(await cli(['catalog', 'datacenters', 'extra']), { code: 1, out: '', err: 'Too many arguments (expected 0, got 1)\n' });
  });

  test('nodes: columnized Node, short ID, Address, DC sorted by name', async () => {
    const r = await cli(['catalog', 'nodes']);
    assert.equal(r.code, 0);
    const own = ownId.split('-')[0];
    assert.equal(r.out, [
      'Node               ID        Address    DC',
      'db-node-long-name            10.0.0.12  dc1',
      `test-node          ${own.padEnd(8)}  127.0.0.1  dc1`,
      'web-node-1         4b2e3c1a  10.0.0.11  dc1',
      '',
    ].join('\n'));
  });

  test('nodes -detailed adds full IDs, tagged addresses and meta (sorted k=v)', async () => {
    const r = await cli(['catalog', 'nodes', '-detailed', '-node-meta=rack=r1']);
    assert.equal(r.code, 0);
    const lines = r.out.split('\n');
    assert.equal(lines[0], `Node${' '.repeat(8)}ID${' '.repeat(36)}Address${' '.repeat(4)}DC${' '.repeat(3)}TaggedAddresses${' '.repeat(18)}Meta`);
    assert.equal(lines[1], 'web-node-1  4b2e3c1a-1111-2222-3333-444455556666  10.0.0.11  dc1  lan=10.0.0.11, wan=198.51.100.1  env=prod, rack=r1');
    assert.equal(lines.length, 3);
  });

  test('nodes -service, -filter (literal and @file-less stdin) and an empty match', async () => {
    const s = await cli(['catalog', 'nodes', '-service=web']);
    assert.deepEqual(s.out.split('\n').slice(1, -1).map((l) => l.split(/\s+/)[0]), ['db-node-long-name', 'web-node-1']);
    const f = await cli(['catalog', 'nodes', '-filter', 'Meta.rack == "r2"']);
    assert.deepEqual(f.out.split('\n').slice(1, -1).map((l) => l.split(/\s+/)[0]), ['db-node-long-name']);
    const stdin = await cli(['catalog', 'nodes', '-filter=-'], 'Node == "web-node-1"');
    assert.deepEqual(stdin.out.split('\n').slice(1, -1).map((l) => l.split(/\s+/)[0]), ['web-node-1']);
    assert.deepEqual(await cli(['catalog', 'nodes', '-node-meta=rack=nowhere']), {
      code: 0, out: '', err: 'No nodes match the given query - try expanding your search.\n',
    });
    const bad = await cli(['catalog', 'nodes', '-node-meta=rack']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^invalid value "rack" for flag -node-meta: Missing "=" value in argument: rack\nUsage:\n/);
    const e = await cli(['catalog', 'nodes', '-filter', 'Meta.rack ==']);
    assert.equal(e.code, 1);
    assert.match(e.err, /^Error listing nodes: Unexpected response code: 400 /);
  });

  test('services: sorted names; -tags via tabwriter; -node; -node-meta; empty match', async () => {
    assert.deepEqual(await cli(['catalog', 'services']), { code: 0, out: 'consul\ndb\nweb\n', err: '' });
    assert.deepEqual(await cli(['catalog', 'services', '-tags']), {
      code: 0, out: 'consul      \ndb          pg\nweb         primary,v1,v2\n', err: '',
    });
    assert.deepEqual(await cli(['catalog', 'services', '-node=db-node-long-name', '-tags']), {
      code: 0, out: 'db       pg\nweb      v1\n', err: '',
    });
    assert.deepEqual(await cli(['catalog', 'services', '-node-meta=rack=r1']), { code: 0, out: 'web\n', err: '' });
    assert.deepEqual(await cli(['catalog', 'services', '-node=nope']), {
      code: 0, out: '', err: 'No services match the given query - try expanding your search.\n',
    });
  });

  test('catalog alone prints its help and exits 1; an unreachable agent is an error', async () => {
    const r = await cli(['catalog']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^Usage: proconsul catalog <subcommand>/);
    assert.match(r.err, /Subcommands:\n {4}datacenters {4}Lists all known datacenters\n {4}nodes {10}Lists all nodes/);
    const io = memoryIO({ env: { CONSUL_HTTP_ADDR: '127.0.0.1:1' } });
    assert.equal(await runCli(['catalog', 'services'], io), 1);
    assert.match(io.err, /^Error listing services: Get "http:\/\/127\.0\.0\.1:1\/v1\/catalog\/services": dial tcp 127\.0\.0\.1:1: connect: connection refused\n$/);
  });
});
