// Question-name parsing: the tag and service labels of `.service` names, as Consul 1.19.1+ reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseName } from './name.ts';

const service = (name: string, qtype = 'A') => {
  const q = parseName(name, qtype, 'consul.', '')?.query;
  return q && q.kind === 'service' ? `${q.tag}|${q.service}` : q;
};

test('a service name takes one tag label at most: more (a dotted tag) name nothing, as Consul 1.19.1+ refuses them', () => {
  assert.equal(service('web.service.consul'), '|web');
  assert.equal(service('v1.web.service.dc1.consul'), 'v1|web');
  assert.equal(service('_web._v1.service.consul', 'SRV'), 'v1|web');
  assert.equal(service('_web._tcp.consul', 'SRV'), '|web');
  assert.equal(service('a.b.web.service.consul'), null);
  assert.equal(service('banana._db._primary.service.dc1.consul', 'SRV'), null);
  assert.equal(service('banana._db._primary.dc1.consul', 'SRV'), null);
});
