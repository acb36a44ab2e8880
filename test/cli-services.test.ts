// `proconsul services register|deregister` end to end: definitions from JSON and HCL files
// (read with the agent's config parser) and from flags, registered with a real dev agent's
// /v1/agent/service/register and removed again, with Consul's messages and exit codes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servicesFromFiles } from '../src/cli/services-config.ts';
import { cliAgent } from './support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'proconsul-cli-services-'));
const jsonFile = join(dir, 'web.json');
writeFileSync(jsonFile, JSON.stringify({
  service: {
    ID: 'web-1', Name: 'web', Tags: ['v1'], Port: 8080, Meta: { team: 'edge' },
    TaggedAddresses: { lan: { Address: '10.0.0.1', Port: 8080 } },
    Check: { ID: 'web-ttl', TTL: '30s' },
  },
}));
const hclFile = join(dir, 'db.hcl');
writeFileSync(hclFile, `
services {
  name = "db"
  port = 5432
  tags = ["primary"]
  meta { Owner_Team = "data" }
  enable_tag_override = true
  checks = [{ id = "db-tcp", tcp = "127.0.0.1:5432", interval = "10s" }]
}
services {
  id   = "cache-1"
  name = "cache"
}
`);

describe('services definitions from files', () => {
  test('JSON and HCL definitions become the registrations Consul\'s Go client sends', async () => {
    assert.deepEqual(await servicesFromFiles([jsonFile, hclFile]), [
      {
        ID: 'web-1', Name: 'web', Tags: ['v1'], Port: 8080, Meta: { team: 'edge' },
        TaggedAddresses: { lan: { Address: '10.0.0.1', Port: 8080 } }, Check: { CheckID: 'web-ttl', TTL: '30s' },
      },
      {
        Name: 'db', Port: 5432, Tags: ['primary'], Meta: { Owner_Team: 'data' }, EnableTagOverride: true,
        Checks: [{ CheckID: 'db-tcp', TCP: '127.0.0.1:5432', Interval: '10s' }],
      },
      { ID: 'cache-1', Name: 'cache' },
    ]);
  });

  test('a bad file is reported as the agent config loader reports it', async () => {
    await assert.rejects(servicesFromFiles([join(dir, 'missing.json')]), /no such file or directory/);
    const bad = join(dir, 'bad.hcl');
    writeFileSync(bad, 'service { name = ');
    await assert.rejects(servicesFromFiles([bad]), /^ConfigError: failed to parse .*bad\.hcl/);
  });
});

describe('services commands against a dev agent', () => {
  const dev = cliAgent();
  const { cli } = dev;

  test('register from a JSON and an HCL file, then deregister from the same files', async () => {
    assert.deepEqual(await cli(['services', 'register', jsonFile, hclFile]), {
      code: 0, out: 'Registered service: web\nRegistered service: db\nRegistered service: cache\n', err: '',
    });
    const { data } = await dev.client.agent.services();
    assert.deepEqual(Object.keys(data).sort(), ['cache-1', 'db', 'web-1']);
    assert.equal(data['web-1'].Service, 'web');
    assert.equal(data['web-1'].Port, 8080);
    assert.deepEqual(data['web-1'].Meta, { team: 'edge' });
    assert.deepEqual(data.db.Tags, ['primary']);
    assert.equal(data.db.EnableTagOverride, true);
    const checks = (await dev.client.agent.checks()).data;
    assert.equal(checks['web-ttl'].ServiceID, 'web-1');
    assert.equal(checks['db-tcp'].ServiceID, 'db');

    assert.deepEqual(await cli(['services', 'deregister', jsonFile, hclFile]), {
      code: 0, out: 'Deregistered service: web-1\nDeregistered service: db\nDeregistered service: cache-1\n', err: '',
    });
    assert.deepEqual((await dev.client.agent.services()).data, {});
  });

  test('register from flags (ID defaults to the name), deregister with -id', async () => {
    const r = await cli(['services', 'register', '-name=api', '-port=9000', '-address=10.1.1.1', '-tag=a', '-tag=b', '-meta=k=v', '-tagged-address=wan=192.0.2.1:80']);
    assert.deepEqual(r, { code: 0, out: 'Registered service: api\n', err: '' });
    const svc = (await dev.client.agent.services()).data.api;
    assert.equal(svc.Address, '10.1.1.1');
    assert.deepEqual(svc.Tags, ['a', 'b']);
    assert.deepEqual(svc.Meta, { k: 'v' });
    assert.deepEqual(svc.TaggedAddresses?.wan, { Address: '192.0.2.1', Port: 80 });
    assert.deepEqual(await cli(['services', 'deregister', '-id=api']), { code: 0, out: 'Deregistered service: api\n', err: '' });
    assert.equal((await dev.client.agent.services()).data.api, undefined);
  });

  test("Consul's argument errors", async () => {
    assert.deepEqual(await cli(['services', 'register']), { code: 1, out: '', err: 'Service registration requires at least one argument or flags.\n' });
    assert.deepEqual(await cli(['services', 'register', '-name=x', jsonFile]), { code: 1, out: '', err: 'Service registration requires arguments or -id, not both.\n' });
    assert.deepEqual(await cli(['services', 'register', '-name=x', '-tagged-address=wan=nope']), { code: 1, out: '', err: 'Invalid Tagged Address: address nope: missing port in address\n' });
    const missing = await cli(['services', 'register', join(dir, 'nope.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^Error: config: Open failed on .*nope\.json\. open .*nope\.json: no such file or directory\n$/);
    assert.deepEqual(await cli(['services', 'deregister']), { code: 1, out: '', err: 'Service deregistration requires at least one argument or -id.\n' });
    assert.deepEqual(await cli(['services', 'deregister', '-id=x', jsonFile]), { code: 1, out: '', err: 'Service deregistration requires arguments or -id, not both.\n' });
    const services = await cli(['services']);
    assert.equal(services.code, 1);
    assert.match(services.err, /Subcommands:\n {4}deregister {11}Deregister services with the local agent\n {4}export {15}Export a service from one peer or admin partition to another\n {4}exported-services {4}Lists exported services\n {4}register {13}Register services with the local agent\n/);
  });
});
