// Consul's server RPC counters on real processes: two single-server datacenters on 127.0.0.4
// (dc1) and 127.0.0.5 (dc2) joined over the WAN. A dc2 request with ?dc=dc1 counts in dc2's
// rpc.cross-dc{datacenter="dc1"} and in dc1's rpc.request (it arrives on dc1's internal RPC port);
// a request on that port no route answers counts in dc1's rpc.request_error. JSON and Prometheus.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { call, DcProcs, get } from './support/dc-procs.ts';
import { until } from './support/wait.ts';

const dcs = new DcProcs('metrics-rpc');
const procs = dcs.procs;
const POLL = dcs.poll;

type WanMember = { Name: string; Status: number; Tags: Record<string, string> };
interface Summary { Counters: { Name: string; Count: number; Labels: Record<string, string> }[] }

before(async () => {
  const telemetry = { telemetry: { prometheus_retention_time: '60s', disable_hostname: true } };
  await dcs.add('m1', 'dc1', '127.0.0.4', telemetry);
  await dcs.add('m2', 'dc2', '127.0.0.5', telemetry);
  const [dc1, dc2] = procs;
  dcs.launchServer(dc1);
  dcs.launchServer(dc2, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  for (const p of procs) {
    await until(`${p.node} to list both WAN members alive`, 30_000, async () => {
      const ms = await get<WanMember[]>(p, '/v1/agent/members?wan=1');
      return ms?.length === 2 && ms.every((m) => m.Status === 1);
    }, POLL);
  }
});

/** The count of counter `name` with `labels` in `p`'s JSON metrics (0 when absent). */
async function count(p: { http: string }, name: string, labels: Record<string, string> = {}): Promise<number> {
  const s = (await get<Summary>(p, '/v1/agent/metrics'))!;
  const c = s.Counters.find((x) => x.Name === name && Object.entries(labels).every(([k, v]) => x.Labels[k] === v));
  return c?.Count ?? 0;
}

test('rpc.cross-dc on the sending server, rpc.request and rpc.request_error on the receiving one', async () => {
  const [dc1, dc2] = procs;
  const crossBefore = await count(dc2, 'consul.rpc.cross-dc', { datacenter: 'dc1' });
  const requestsBefore = await count(dc1, 'consul.rpc.request');
  const errorsBefore = await count(dc1, 'consul.rpc.request_error');
  // dc2's own request does not arrive on its RPC port: no rpc.request there for it.
  const dc2RequestsBefore = await count(dc2, 'consul.rpc.request');

  const put = await call(dc2, 'PUT', '/v1/kv/metrics/k?dc=dc1', 'v');
  assert.equal(put.status, 200, put.text);
  const read = await call(dc2, 'GET', '/v1/kv/metrics/k?dc=dc1&raw');
  assert.equal(read.text, 'v');
  assert.equal(await count(dc2, 'consul.rpc.cross-dc', { datacenter: 'dc1' }), crossBefore + 2);
  assert.ok(await count(dc1, 'consul.rpc.request') >= requestsBefore + 2);
  assert.equal(await count(dc2, 'consul.rpc.request'), dc2RequestsBefore);

  // A path no route answers, straight to dc1's server port (the WAN member's `port` tag).
  const s1 = (await get<WanMember[]>(dc1, '/v1/agent/members?wan=1'))!.find((m) => m.Name === 'm1.dc1')!;
  const bad = await fetch(`http://${dc1.ip}:${s1.Tags.port}/v1/no/such/endpoint`);
  assert.equal(bad.status, 404);
  await bad.text();
  assert.equal(await count(dc1, 'consul.rpc.request_error'), errorsBefore + 1);

  const prom1 = await call(dc1, 'GET', '/v1/agent/metrics?format=prometheus');
  assert.match(prom1.text, /^# TYPE consul_rpc_request counter$/m);
  assert.match(prom1.text, /^# TYPE consul_rpc_request_error counter$/m);
  assert.match(prom1.text, /^consul_rpc_request_error [1-9]\d*$/m);
  const prom2 = await call(dc2, 'GET', '/v1/agent/metrics?format=prometheus');
  assert.match(prom2.text, /^# TYPE consul_rpc_cross_dc counter$/m);
  assert.match(prom2.text, /^consul_rpc_cross_dc\{datacenter="dc1"\} [1-9]\d*$/m);
});
