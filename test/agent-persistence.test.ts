// Registrations that outlive the agent: API services and checks persisted in the data dir and
// re-registered after a restart (TTL status kept until it would expire), config-file services
// registered at start and changed by PUT /v1/agent/reload, and the npm consul client end to end.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Consul from 'consul';
import { startDevAgent, type DevAgent } from './support/agent.ts';

const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-agent-'));
  dirs.push(d);
  return d;
}

async function call(dev: DevAgent, method: string, p: string, body?: unknown) {
  const res = await fetch(`http://${dev.httpAddr}${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json };
}

describe('persistence', () => {
  test('API services and checks survive a restart; a deregistered one does not', async () => {
    const dataDir = tmp();
    const config = { dataDir, store: { backend: 'embedded' as const } };
    let dev = await startDevAgent({ config });
    await call(dev, 'PUT', '/v1/agent/service/register', { Name: 'db', Port: 5432, Tags: ['primary'], Check: { TTL: '1h' } });
    await call(dev, 'PUT', '/v1/agent/service/register', { Name: 'tmp' });
    await call(dev, 'PUT', '/v1/agent/check/pass/service:db?note=ok');
    await call(dev, 'PUT', '/v1/agent/service/maintenance/db?enable=true&reason=r');
    await call(dev, 'PUT', '/v1/agent/service/deregister/tmp');
    assert.equal(fs.readdirSync(path.join(dataDir, 'services')).length, 1);
    await dev.stop();

    dev = await startDevAgent({ config });
    try {
      const services = (await call(dev, 'GET', '/v1/agent/services')).json;
      assert.deepEqual(Object.keys(services), ['db']);
      assert.deepEqual(services.db.Tags, ['primary']);
      const checks = (await call(dev, 'GET', '/v1/agent/checks')).json;
      assert.equal(checks['service:db'].Status, 'passing');
      assert.equal(checks['service:db'].Output, 'ok');
      assert.equal(checks['_service_maintenance:db'].Notes, 'r');
      const health = (await call(dev, 'GET', '/v1/health/service/db')).json;
      assert.equal(health.length, 1);
      assert.equal(health[0].Checks.length, 3);
      assert.equal((await call(dev, 'GET', '/v1/catalog/service/tmp')).json.length, 0);
    } finally {
      await dev.stop();
    }
  });

  test('nothing is written without a data dir', async () => {
    const dev = await startDevAgent();
    try {
      await call(dev, 'PUT', '/v1/agent/service/register', { Name: 'x' });
      assert.equal((await call(dev, 'GET', '/v1/agent/services')).json.x.ID, 'x');
    } finally {
      await dev.stop();
    }
  });
});

describe('config-file services', () => {
  test('registered at start and replaced on reload', async () => {
    const file = path.join(tmp(), 'svc.json');
    const v1 = { services: [{ name: 'cfg', port: 1, checks: [{ id: 'cfg-ttl', ttl: '1h' }] }], check: { id: 'node-ttl', name: 'node', ttl: '1h' } };
    fs.writeFileSync(file, JSON.stringify(v1));
    const dev = await startDevAgent({ config: { raw: v1 as Record<string, unknown>, sources: [file] } });
    try {
      assert.equal((await call(dev, 'GET', '/v1/catalog/service/cfg')).json[0].ServicePort, 1);
      assert.ok((await call(dev, 'GET', '/v1/agent/checks')).json['node-ttl']);
      await call(dev, 'PUT', '/v1/agent/check/pass/cfg-ttl');
      fs.writeFileSync(file, JSON.stringify({ services: [{ name: 'cfg', port: 2, checks: [{ id: 'cfg-ttl', ttl: '1h' }] }, { name: 'cfg2' }] }));
      assert.equal((await call(dev, 'PUT', '/v1/agent/reload')).status, 200);
      assert.equal((await call(dev, 'GET', '/v1/catalog/service/cfg')).json[0].ServicePort, 2);
      assert.equal((await call(dev, 'GET', '/v1/catalog/service/cfg2')).json.length, 1);
      const checks = (await call(dev, 'GET', '/v1/agent/checks')).json;
      assert.equal(checks['node-ttl'], undefined);
      assert.equal(checks['cfg-ttl'].Status, 'passing', 'status kept across the reload');
    } finally {
      await dev.stop();
    }
  });
});

describe('npm consul client', () => {
  test('agent.service.register, agent.check.pass, health.service, catalog.service and watch()', async () => {
    const dev = await startDevAgent();
    const [host, port] = dev.httpAddr.split(':');
    const consul = new Consul({ host, port: Number(port) });
    try {
      await consul.agent.service.register({ name: 'node-web', id: 'nw1', port: 3000, tags: ['t'], check: { ttl: '30s' } } as any);
      assert.equal(((await consul.catalog.service.nodes('node-web')) as any[])[0].ServiceID, 'nw1');
      assert.deepEqual(await consul.health.service({ service: 'node-web', passing: true }), []);
      const watch = consul.watch({ method: consul.health.service, options: { service: 'node-web', passing: true } as any });
      const seen: number[] = [];
      const healthy = new Promise<void>((resolve, reject) => {
        watch.on('change', (data: any[]) => {
          seen.push(data.length);
          if (data.length === 1) resolve();
        });
        watch.on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 100));
      await consul.agent.check.pass({ id: 'service:nw1', note: 'up' } as any);
      await healthy;
      watch.end();
      assert.deepEqual(seen.at(-1), 1);
      const checks = (await consul.agent.check.list()) as Record<string, any>;
      assert.equal(checks['service:nw1'].Output, 'up');
      await consul.agent.service.deregister('nw1');
      assert.deepEqual(await consul.catalog.service.nodes('node-web'), []);
    } finally {
      await dev.stop();
    }
  });
});
