// Acceptance: 10,000 concurrent blocking queries on 10,000 different keys cost no CPU while
// idle, and one write wakes exactly one of them. The queries go through the agent's HTTP
// dispatch in-process (10,000 real sockets would exceed the file-descriptor limit of CI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent } from './support/agent.ts';

test('10,000 blocked KV queries: idle costs no CPU, one write wakes exactly one', async () => {
  const dev = await startDevAgent();
  try {
    const { http, replica } = dev.agent;
    const N = 10_000;
    const index = Number((await http.handle({ method: 'GET', url: '/v1/kv/none' })).headers['X-Consul-Index']);
    // The agent's own blocking watches (e.g. the peering leader loop's) are counted apart.
    const own = replica.notifier.blocked;
    const answered: number[] = [];
    const pending = Array.from({ length: N }, (_, i) =>
      http.handle({ method: 'GET', url: `/v1/kv/watch/${i}?index=${index}&wait=10m` }).then((res) => {
        answered.push(i);
        return res;
      }));
    while (replica.notifier.blocked < own + N) await new Promise((r) => setTimeout(r, 10));

    // Let the registration burst's garbage collection finish, then measure a quiet second.
    await new Promise((r) => setTimeout(r, 1000));
    const before = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1000));
    const idle = process.cpuUsage(before);
    // Idle means no polling: well under 5% of one core over the second (timers and GC only).
    assert.ok(idle.user + idle.system < 50_000, `idle CPU ${idle.user + idle.system} µs in 1 s`);

    const wakeupsBefore = replica.notifier.wakeups;
    const put = await http.handle({ method: 'PUT', url: '/v1/kv/watch/1234', body: 'v' });
    assert.equal(put.status, 200);
    const res = await pending[1234];
    assert.equal(res.status, 200);
    assert.ok(Number(res.headers['X-Consul-Index']) > index);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(answered, [1234]);
    assert.equal(replica.notifier.wakeups - wakeupsBefore, 1);
    assert.equal(replica.notifier.blocked, own + N - 1);
  } finally {
    await dev.stop();
  }
});
