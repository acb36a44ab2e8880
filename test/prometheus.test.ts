// Prometheus (Debian's `prometheus`) scraping a dev agent's `/v1/agent/metrics?format=prometheus`, as
// users run it: its own exposition-format parser (strict about TYPE/HELP lines, names, label escaping
// and duplicate series) must accept every scrape, and the samples must be queryable under the names
// Consul's Prometheus sink gives them. Observed through Prometheus's HTTP API. (Debian builds
// Prometheus without consul_sd_configs, so its Consul service discovery cannot be driven here.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';

let dev: DevAgent;
let prom: ChildProcess | undefined;
let promOut = '';
let promAddr = '';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prometheus-'));

/** Polls `probe` until it returns true or `ms` pass; the message names what was awaited. */
async function eventually(what: string, probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; prometheus said:\n${promOut.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Target {
  scrapePool: string;
  health: string;
  lastError: string;
}

/** Prometheus's active targets of the agent's job (GET /api/v1/targets?state=active). */
async function agentTarget(): Promise<Target | undefined> {
  const res = await fetch(`http://${promAddr}/api/v1/targets?state=active`);
  const body = await res.json() as { data: { activeTargets: Target[] } };
  return body.data.activeTargets.find((t) => t.scrapePool === 'proconsul-metrics');
}

/** The samples of an instant PromQL query. */
async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`http://${promAddr}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await res.json() as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success', promql);
  return body.data.result;
}

before(async () => {
  const v = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  if (v.error) assert.fail(`prometheus is not installed (Debian package prometheus; .ci/run installs it): ${v.error.message}`);
  dev = await startDevAgent({ config: { raw: { telemetry: { prometheus_retention_time: '60s', disable_hostname: true } } } as never });
  // Some traffic first, so the scrape carries counters and summaries with labels, not only gauges.
  await dev.agent.endpoints.catalog.register({ Node: 'a', Address: '10.20.0.1', Service: { ID: 'web-a', Service: 'web', Port: 9001 } } as never);
  for (let i = 0; i < 3; i++) await fetch(`http://${dev.httpAddr}/v1/kv/prom-${i}`, { method: 'PUT', body: 'x' });
  await fetch(`http://${dev.httpAddr}/v1/health/service/web?passing`);
  promAddr = `127.0.0.1:${await freePort()}`;
  const cfg = path.join(tmp, 'prometheus.yml');
  fs.writeFileSync(cfg, [
    'global:', '  scrape_interval: 1s', '  scrape_timeout: 900ms', 'scrape_configs:',
    '  - job_name: proconsul-metrics', '    metrics_path: /v1/agent/metrics', '    params:', '      format: [prometheus]',
    '    static_configs:', `      - targets: ['${dev.httpAddr}']`, '',
  ].join('\n'));
  prom = spawn('prometheus', [
    `--config.file=${cfg}`, `--storage.tsdb.path=${path.join(tmp, 'data')}`, `--web.listen-address=${promAddr}`, '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  prom.stdout!.on('data', (d) => (promOut += d));
  prom.stderr!.on('data', (d) => (promOut += d));
  await eventually('prometheus API', async () => (await fetch(`http://${promAddr}/-/ready`)).ok);
});
after(async () => {
  prom?.kill('SIGTERM');
  if (prom && prom.exitCode === null) await new Promise((r) => prom!.once('exit', r));
  await dev?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the agent's metrics scraped by Prometheus", () => {
  test('every scrape parses: the target is up with no error over several scrapes', async () => {
    await eventually('three scrapes of /v1/agent/metrics', async () => Number((await query('count_over_time(up{job="proconsul-metrics"}[1m])'))[0]?.value[1]) >= 3);
    const t = await agentTarget();
    assert.equal(t?.health, 'up', t?.lastError);
    assert.equal(t?.lastError, '');
    // A failed parse makes `up` 0 for that scrape: every one so far was accepted.
    assert.equal((await query('min_over_time(up{job="proconsul-metrics"}[1m])'))[0]?.value[1], '1');
    // Prometheus dropped nothing it read (a series it rejects is counted out of the scrape).
    const scraped = Number((await query('scrape_samples_scraped{job="proconsul-metrics"}'))[0]?.value[1]);
    const kept = Number((await query('scrape_samples_post_metric_relabeling{job="proconsul-metrics"}'))[0]?.value[1]);
    assert.ok(scraped > 50, `only ${scraped} samples per scrape`);
    assert.equal(kept, scraped);
  });

  test('gauges, counters and summaries arrive under the names and labels of Consul\'s Prometheus sink', async () => {
    const [alloc] = await query('consul_runtime_alloc_bytes');
    assert.ok(Number(alloc.value[1]) > 1e6, `consul_runtime_alloc_bytes ${alloc.value[1]}`);
    assert.equal(Number((await query('consul_kvs_apply_count'))[0]?.value[1]), 3);
    const median = await query('consul_kvs_apply{quantile="0.5"}');
    assert.equal(median.length, 1);
    assert.ok(Number(median[0].value[1]) > 0);
    const puts = await query('consul_api_http_count{method="PUT",path="v1_kv_"}');
    assert.equal(puts[0]?.value[1], '3');
    assert.ok(Number((await query('consul_catalog_register_count'))[0]?.value[1]) >= 1);
  });
});
