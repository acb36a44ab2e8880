// `proconsul maint` end to end against a real dev agent: node and service maintenance on and
// off, the list mode's exact format, and Consul's flag-combination errors.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { maintenanceList } from '../src/cli/maint.ts';
import { cliAgent } from './support/cli.ts';

test('list mode renders node then service blocks, each followed by a blank line', () => {
  const check = (CheckID: string, ServiceID: string, Notes: string) => ({ CheckID, ServiceID, Notes, Node: 'n', Name: '', Status: 'critical', Output: '', ServiceName: '', Type: '' });
  assert.deepEqual(maintenanceList('node-a', [check('_service_maintenance:web', 'web', 'deploy'), check('serfHealth', '', ''), check('_node_maintenance', '', 'kernel')]), [
    'Node:', '  Name:   node-a', '  Reason: kernel', '',
    'Service:', '  ID:     web', '  Reason: deploy', '',
  ]);
});

describe('maint against a dev agent', () => {
  const dev = cliAgent();
  const { cli } = dev;

  test('node and service maintenance on, listed, and off again', async () => {
    assert.deepEqual(await cli(['maint']), { code: 0, out: '', err: '' });
    assert.deepEqual(await cli(['maint', '-enable', '-reason=kernel upgrade']), { code: 0, out: 'Node maintenance is now enabled\n', err: '' });
    await dev.client.agent.serviceRegister({ ID: 'web-1', Name: 'web', Port: 80 });
    assert.deepEqual(await cli(['maint', '-enable', '-service=web-1', '-reason', 'deploy']), {
      code: 0, out: 'Service maintenance is now enabled for "web-1"\n', err: '',
    });
    assert.deepEqual(await cli(['maint']), {
      code: 0, err: '',
      out: 'Node:\n  Name:   test-node\n  Reason: kernel upgrade\n\nService:\n  ID:     web-1\n  Reason: deploy\n\n',
    });
    const node = (await dev.client.health.node('test-node')).data.find((c) => c.CheckID === '_node_maintenance');
    assert.equal(node?.Status, 'critical');
    assert.deepEqual(await cli(['maint', '-disable', '-service=web-1']), { code: 0, out: 'Service maintenance is now disabled for "web-1"\n', err: '' });
    assert.deepEqual(await cli(['maint', '-disable']), { code: 0, out: 'Node maintenance is now disabled\n', err: '' });
    assert.deepEqual(await cli(['maint']), { code: 0, out: '', err: '' });
  });

  test('an unknown service is the agent\'s error', async () => {
    const r = await cli(['maint', '-enable', '-service=nope']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^Error enabling service maintenance: Unexpected response code: 404 \(/);
  });

  test("Consul's flag-combination errors", async () => {
    assert.deepEqual(await cli(['maint', '-enable', '-disable']), { code: 1, out: '', err: 'Only one of -enable or -disable may be provided\n' });
    assert.deepEqual(await cli(['maint', '-reason=x']), { code: 1, out: '', err: 'Reason may only be provided with -enable\n' });
    assert.deepEqual(await cli(['maint', '-service=web']), { code: 1, out: '', err: 'Service requires either -enable or -disable\n' });
    assert.equal((await cli(['maint', '-datacenter=dc2'])).code, 1, 'maint takes only the client HTTP flags');
  });
});
