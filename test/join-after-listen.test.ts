// An agent joins its pool only once it answers: whoever sees it in `members` can query its HTTP
// API at once (Consul's agent command starts retry_join after the agent started). A second
// datacenter's server retry-joins the first over the WAN, a client agent the first server over the
// LAN; the moment the first server lists either, its HTTP API must answer.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { call, DcProcs, get } from './support/dc-procs.ts';
import { until } from './support/wait.ts';

const dcs = new DcProcs('join-after-listen');
const POLL = dcs.poll;

before(async () => {
  const s1 = await dcs.add('s1', 'dc1', '127.0.0.41');
  dcs.launchServer(s1);
  await until('s1 to answer', 30_000, async () => (await call(s1, 'GET', '/v1/status/leader')).status === 200, POLL);
});

test('a server of another datacenter that the WAN lists already answers HTTP', async () => {
  const s1 = dcs.procs[0]!;
  const s2 = await dcs.add('s2', 'dc2', '127.0.0.43');
  dcs.launchServer(s2, ['-retry-join-wan', `${s1.ip}:${s1.wan}`]);
  await until('s1 to list s2 over the WAN', 30_000, async () => {
    const ms = await get<{ Name: string }[]>(s1, '/v1/agent/members?wan=1');
    return ms?.some((m) => m.Name === 's2.dc2') ? true : undefined;
  }, { ...POLL, every: 5 });
  const self = await call(s2, 'GET', '/v1/agent/self');
  assert.equal(self.status, 200, self.text);
});

test('a client that the server lists as a member already answers HTTP', async () => {
  const s1 = dcs.procs[0]!;
  const c1 = await dcs.add('c1', 'dc1', '127.0.0.42', {}, { wan: false });
  dcs.launchClient(c1, s1);
  await until('s1 to list c1', 30_000, async () => {
    const ms = await get<{ Name: string }[]>(s1, '/v1/agent/members');
    return ms?.some((m) => m.Name === 'c1') ? true : undefined;
  }, { ...POLL, every: 5 });
  // No retry here: the member is visible, so its API must be up.
  const self = await call(c1, 'GET', '/v1/agent/self');
  assert.equal(self.status, 200, self.text);
});
