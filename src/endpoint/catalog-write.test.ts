// Catalog register's record comparison, a node re-registered in another spelling (Consul's
// ensureNodeTxn stores a changed node as sent) moving its records to the new spelling, and locality.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from '../../test/support/agent.ts';
import { sameRecord } from './catalog-write.ts';

// The reference: the records' JSON without their indexes.
function reference(a: object, b: object): boolean {
  const strip = (r: object) => { const { CreateIndex: _c, ModifyIndex: _m, ...rest } = r as Record<string, unknown>; return rest; };
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

test('sameRecord: equal JSON apart from the indexes, field order included', () => {
  const base = { Node: 'n', Address: '10.0.0.1', Meta: { a: '1' }, Tags: ['x'], Port: 0, Weights: { Passing: 1, Warning: 1 } };
  const cases: [object, object][] = [
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, base],
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, { ...base, Address: '10.0.0.2' }],
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, { ...base, Meta: { a: '2' } }],
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, { ...base, Tags: ['x', 'y'] }],
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, { ...base, Extra: 1 }],
    [{ ...base, CreateIndex: 3, ModifyIndex: 9 }, { ...base, Extra: undefined }],
    [{ ...base, Gone: undefined, CreateIndex: 3, ModifyIndex: 9 }, base],
    [{ Address: '10.0.0.1', Node: 'n', Meta: { a: '1' }, Tags: ['x'], Port: 0, Weights: { Passing: 1, Warning: 1 } }, base],
    [{ ...base, Port: Number.NaN }, { ...base, Port: null }],
    [{ ...base, Port: '0' }, base],
    [{ ...base, Meta: null }, { ...base, Meta: {} }],
    [{ ...base, Weights: { Warning: 1, Passing: 1 } }, base],
  ];
  for (const [a, b] of cases) assert.equal(sameRecord(a, b), reference(a, b), JSON.stringify([a, b]));
  assert.equal(sameRecord(undefined, base), false);
  assert.equal(sameRecord({ ...base, CreateIndex: 1, ModifyIndex: 2 }, base), true);
  assert.equal(sameRecord({ ...base, CreateIndex: 1, ModifyIndex: 2 }, { ...base, Port: 1 }), false);
});

describe('a node re-registered in another spelling', () => {
  let dev: DevAgent;
  before(async () => {
    dev = await startDevAgent();
  });
  after(() => dev.stop());

  test('keeps its spelling for a case-only difference; takes the new one with another change, its records alike', async () => {
    const { catalog, session, coordinate } = dev.agent.endpoints;
    const cat = dev.agent.replica.catalog;
    await catalog.register({
      Node: 'Respell-Node', Address: '10.9.0.1', Service: { ID: 'Web-1', Service: 'web', Port: 80 },
      Checks: [{ CheckID: 'Web-Check', ServiceID: 'Web-1', Status: 'passing' }, { CheckID: 'alive', Status: 'passing' }],
    });
    await catalog.register({ Node: 'Respell-Node', Address: '10.9.0.1', SkipNodeUpdate: true, Service: { ID: 'db', Service: 'db' } });
    coordinate.update({ Node: 'respell-node', Coord: { Vec: [0.1, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 } });
    await coordinate.flush();
    const sid = await session.create({ Name: '', Node: 'RESPELL-NODE', LockDelay: 0, Behavior: 'release', TTL: '', NodeChecks: ['alive'], ServiceChecks: [] });
    const folded = () => [...cat.nodes.keys()].filter((n) => n.toLowerCase() === 'respell-node');

    await catalog.register({ Node: 'RESPELL-NODE', Address: '10.9.0.1' });
    assert.deepEqual(folded(), ['Respell-Node'], 'a case-only difference changes nothing (Consul: EqualFold)');
    await catalog.register({ Node: 'RESPELL-node', Address: '10.9.0.1', SkipNodeUpdate: true, NodeMeta: { a: 'b' } });
    assert.deepEqual(folded(), ['Respell-Node'], 'SkipNodeUpdate leaves the node as stored');

    await catalog.register({ Node: 'respell-NODE', Address: '10.9.0.2', Service: { ID: 'web-1', Service: 'web', Port: 81 } });
    assert.deepEqual(folded(), ['respell-NODE'], 'the new spelling is stored, once');
    assert.equal(cat.node('Respell-Node')?.Address, '10.9.0.2');
    assert.equal(cat.services.has('Respell-Node') || cat.checks.has('Respell-Node'), false, 'nothing left under the old spelling');
    assert.deepEqual([...cat.services.get('respell-NODE')!.keys()].sort(), ['db', 'web-1']);
    assert.equal(cat.services.get('respell-NODE')!.get('web-1')!.Port, 81);
    assert.deepEqual(cat.nodeChecks('respell-node').map((c) => [c.Node, c.CheckID, c.ServiceID]),
      [['respell-NODE', 'Web-Check', 'Web-1'], ['respell-NODE', 'alive', '']]);
    assert.deepEqual(cat.instances('web').map((i) => [i.node.Node, i.service.ID, cat.instanceChecks(i.node.Node, i.service.ID).length]),
      [['respell-NODE', 'web-1', 2]]);
    assert.deepEqual(dev.agent.replica.coordinates.node('respell-node').map((e) => e.Node), ['respell-NODE']);
    assert.equal(dev.agent.replica.sessions.byNode('respell-node').length, 1, 'the node\'s session lives on');

    // Deregistering the node in any spelling removes every moved record, coordinates and session too.
    await catalog.deregister({ Node: 'RESPELL-node' });
    assert.deepEqual(folded(), []);
    assert.equal(cat.services.has('respell-NODE') || cat.checks.has('respell-NODE'), false);
    assert.deepEqual(dev.agent.replica.coordinates.node('respell-node'), []);
    assert.equal(dev.agent.replica.sessions.byNode('respell-node').some((s) => s.ID === sid), false);
    const left = await dev.agent.store.range('coordinate/');
    assert.equal(left.kvs.some((kv) => kv.key.toLowerCase().includes('respell-node')), false, 'no coordinate key left behind');
  });
});

describe('locality', () => {
  let dev: DevAgent;
  before(async () => {
    dev = await startDevAgent();
  });
  after(() => dev.stop());

  test('kept on the node and the service as given; the same locality again writes nothing; an empty one is none', async () => {
    const { catalog } = dev.agent.endpoints;
    const cat = dev.agent.replica.catalog;
    const east = { Region: 'us-east-1', Zone: 'us-east-1a' };
    await catalog.register({
      Node: 'loc', Address: '10.9.1.1', Locality: east, Service: { ID: 'web', Service: 'web', Locality: { Region: 'eu-1', Zone: '' } },
    });
    assert.deepEqual(cat.node('loc')?.Locality, east);
    assert.deepEqual(cat.services.get('loc')!.get('web')!.Locality, { Region: 'eu-1' });
    const modified = [cat.node('loc')!.ModifyIndex, cat.services.get('loc')!.get('web')!.ModifyIndex];
    await catalog.register({
      Node: 'loc', Address: '10.9.1.1', Locality: { ...east }, Service: { ID: 'web', Service: 'web', Locality: { Region: 'eu-1' } },
    });
    assert.deepEqual([cat.node('loc')!.ModifyIndex, cat.services.get('loc')!.get('web')!.ModifyIndex], modified, 'unchanged records are not rewritten');
    await catalog.register({ Node: 'loc', Address: '10.9.1.1', Locality: { Region: '', Zone: '' }, Service: { ID: 'web', Service: 'web' } });
    assert.equal('Locality' in cat.node('loc')!, false);
    assert.equal('Locality' in cat.services.get('loc')!.get('web')!, false);
  });
});
