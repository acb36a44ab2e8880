// performance.leave_drain_time: a server that leaves gracefully keeps serving for the drain time
// after it left the LAN pool (Consul's "Waiting to drain RPC traffic"), then finishes leaving.
// The drain timer is held by the test's clock, so the leave's progress is checked without sleeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock, type Clock } from '../src/clock.ts';
import { createLogger } from '../src/log.ts';
import { createAgent } from '../src/index.ts';
import { devConfig } from './support/agent.ts';
import { freePort } from './support/ports.ts';

const DRAIN_MS = 4321;

test('a leaving server waits leave_drain_time after leaving the pool, still answering', async () => {
  // The system clock, except that the drain's timer waits for the test.
  const held: Array<() => void> = [];
  const clock: Clock = {
    now: () => systemClock.now(),
    setTimer: (ms, fn) => {
      if (ms !== DRAIN_MS) return systemClock.setTimer(ms, fn);
      held.push(fn);
      return { cancel: () => undefined };
    },
  };
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', json: true, write: (l) => lines.push(l) });
  const serf = await freePort();
  const config = devConfig({
    leaveDrainTime: DRAIN_MS,
    ports: { http: 0, https: -1, dns: -1, grpc: -1, grpcTls: -1, serfLan: serf, serfWan: -1, server: await freePort() },
    gossip: {
      bindAddr: '127.0.0.1', bindPort: serf, encrypt: '', encryptVerifyIncoming: true, encryptVerifyOutgoing: true,
      reconnectTimeoutMs: 72 * 3_600_000, rejoinAfterLeave: false, retryJoin: [], retryIntervalMs: 30_000, retryMax: 0,
      leaveOnTerminate: false, skipLeaveOnInterrupt: true,
      timings: { gossipIntervalMs: 200, gossipNodes: 3, retransmitMult: 4, probeIntervalMs: 1000, probeTimeoutMs: 500, suspicionMult: 4 },
    },
  });
  const agent = createAgent(config, { logger, clock });
  await agent.start();
  try {
    let left = false;
    const leaving = agent.leave().then(() => { left = true; });
    for (let i = 0; i < 500 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(held.length, 1, 'the drain timer was set');
    const messages = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const drain = messages.find((m) => m['@message'] === 'Waiting to drain RPC traffic');
    assert.equal(drain?.drain_time, '4.321s');
    assert.ok(messages.findIndex((m) => m['@message'] === 'Gracefully leaving the LAN pool') < messages.indexOf(drain!));
    // Draining: the leave has not finished and the agent still answers.
    const res = await fetch(`http://${agent.httpAddresses()[0]}/v1/status/leader`);
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(left, false);
    held[0]();
    await leaving;
    assert.equal(left, true);
  } finally {
    await agent.stop();
  }
});

test('performance.leave_drain_time is read as a duration, 5s by default', async () => {
  const { loadConfig } = await import('../src/agent/config/load.ts');
  const dflt = await loadConfig({ args: ['-dev'], readOnly: true, hostname: 'h' });
  assert.equal(dflt.config.leaveDrainTime, 5000);
  const set = await loadConfig({ args: ['-dev', '-hcl', 'performance { leave_drain_time = "250ms" }'], readOnly: true, hostname: 'h' });
  assert.equal(set.config.leaveDrainTime, 250);
  assert.deepEqual(set.warnings.filter((w) => w.includes('leave_drain_time')), []);
});
