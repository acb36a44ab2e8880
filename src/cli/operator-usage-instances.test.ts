// `operator usage instances` prints Consul's tables: billable totals per datacenter, then the
// billable and mesh tables, with Datacenter columns and a Total row only for -all-datacenters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usageReport } from './operator-usage-instances.ts';
import type { ServiceUsage } from '../api/operator-usage.ts';

const dc = (services: number, billable: number, proxies: number): ServiceUsage => ({
  Services: services, ServiceInstances: billable + proxies, BillableServiceInstances: billable, Nodes: 1,
  ConnectServiceInstances: { 'connect-proxy': proxies, 'mesh-gateway': 0 },
});

test('one datacenter: totals, then the billable and connect tables without a Datacenter column', () => {
  const out = usageReport({ dc1: dc(5, 4, 1) }, { billable: true, connect: true, datacenters: false });
  assert.equal(out, [
    'Billable Service Instances Total: 4',
    'dc1 Billable Service Instances: 4',
    '',
    'Billable Services',
    'Services      Service instances',
    '5             4',
    '',
    'Connect Services',
    'Type               Service instances',
    'connect-proxy      1',
    'mesh-gateway       0',
  ].join('\n'));
});

test('all datacenters: rows sorted by datacenter then type, a blank row and a Total', () => {
  const usage = { dc2: dc(2, 3, 0), dc1: dc(5, 4, 1) };
  assert.equal(usageReport(usage, { billable: true, connect: false, datacenters: true }), [
    'Billable Service Instances Total: 7',
    'dc1 Billable Service Instances: 4',
    'dc2 Billable Service Instances: 3',
    '',
    'Billable Services',
    'Datacenter      Services      Service instances',
    'dc1             5             4',
    'dc2             2             3',
    '                              ',
    'Total           7             7',
    '',
  ].join('\n'));
  const connect = usageReport(usage, { billable: false, connect: true, datacenters: true }).split('\n');
  assert.deepEqual(connect.slice(0, 3), ['Connect Services', 'Datacenter      Type               Service instances', 'dc1             connect-proxy      1']);
  assert.equal(connect.at(-1), 'Total                              1');
});
