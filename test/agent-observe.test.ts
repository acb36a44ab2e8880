// /v1/agent/metrics (Consul JSON and Prometheus), /v1/agent/monitor (live log stream) and
// /v1/agent/host against a real agent.
import { test } from 'node:test';
import os from 'node:os';
import assert from 'node:assert/strict';
import { startDevAgent } from './support/agent.ts';
import { createLogger, LogHub } from '../src/log.ts';

test('metrics: Consul JSON always; Prometheus only with a positive retention time', async () => {
  const off = await startDevAgent();
  const on = await startDevAgent({ config: { raw: { telemetry: { prometheus_retention_time: '60s' } } } });
  try {
    await fetch(`http://${on.httpAddr}/v1/kv/m`, { method: 'PUT', body: 'v' });
    const json = (await (await fetch(`http://${on.httpAddr}/v1/agent/metrics`)).json()) as {
      Timestamp: string; Gauges: { Name: string }[]; Samples: { Name: string; Labels: Record<string, string> }[];
    };
    assert.match(json.Timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
    // With a sink besides the in-memory one (Prometheus here) go-metrics puts the hostname in
    // gauge names unless telemetry.disable_hostname is set; without one it never does.
    assert.ok(json.Gauges.some((g) => g.Name === `consul.${os.hostname()}.runtime.alloc_bytes`));
    assert.ok(json.Gauges.some((g) => g.Name === `consul.${os.hostname()}.rpc.queries_blocking`));
    const plain = (await (await fetch(`http://${off.httpAddr}/v1/agent/metrics`)).json()) as { Gauges: { Name: string }[] };
    assert.ok(plain.Gauges.some((g) => g.Name === 'consul.runtime.alloc_bytes'));
    assert.ok(json.Samples.some((s) => s.Name === 'consul.api.http' && s.Labels.path === 'v1_kv_' && s.Labels.method === 'PUT'));
    const prom = await fetch(`http://${on.httpAddr}/v1/agent/metrics?format=prometheus`);
    assert.equal(prom.status, 200);
    assert.match(prom.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await prom.text(), /^consul_api_http\{quantile="0\.5",method="PUT",path="v1_kv_"\} /m);
    const refused = await fetch(`http://${off.httpAddr}/v1/agent/metrics?format=prometheus`);
    assert.equal(refused.status, 415);
    assert.equal(await refused.text(), 'Prometheus is not enabled since its retention time is not positive');
  } finally {
    await off.stop();
    await on.stop();
  }
});

test('monitor streams log lines at or above the requested level, as text or JSON, until the client leaves', async () => {
  const hub = new LogHub();
  const logger = createLogger({ level: 'debug', json: false, hub, write: () => {} });
  const dev = await startDevAgent({ deps: { logger, logHub: hub } });
  try {
    const read = async (q: string, emit: () => void): Promise<string> => {
      const ac = new AbortController();
      const res = await fetch(`http://${dev.httpAddr}/v1/agent/monitor${q}`, { signal: ac.signal });
      const reader = res.body!.getReader();
      emit();
      const { value } = await reader.read();
      ac.abort();
      return new TextDecoder().decode(value);
    };
    const text = await read('?loglevel=warn', () => {
      logger.info('not this one');
      logger.warn({ key: 'v' }, 'disk nearly full');
    });
    assert.match(text, /\[WARN\] {2}disk nearly full: key=v/);
    assert.doesNotMatch(text, /not this one/);
    const json = await read('?loglevel=debug&logjson', () => logger.debug({ n: 1 }, 'as json'));
    const rec = JSON.parse(json.trim().split('\n')[0]) as Record<string, unknown>;
    assert.equal(rec['@message'], 'as json');
    assert.equal(rec['@level'], 'debug');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(hub.size, 0, 'subscriptions end when clients leave');
    assert.equal((await fetch(`http://${dev.httpAddr}/v1/agent/monitor?loglevel=loud`)).status, 400);
  } finally {
    await dev.stop();
  }
});

test('host reports memory, CPU, host and disk facts', async () => {
  const dev = await startDevAgent();
  try {
    const host = (await (await fetch(`http://${dev.httpAddr}/v1/agent/host`)).json()) as {
      Memory: { total: number }; CPU: unknown[]; Host: { hostname: string }; Disk: { total?: number };
    };
    assert.ok(host.Memory.total > 0);
    assert.ok(host.CPU.length > 0);
    assert.ok(host.Host.hostname.length > 0);
  } finally {
    await dev.stop();
  }
});
