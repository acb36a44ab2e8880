// Service definitions from config files as `services register` sends them: only what Consul's
// Go client can send (api.AgentServiceRegistration), so the agent's strict decoder takes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servicesFromFiles } from './services-config.ts';
import { refuseUnknownFields } from '../http/known-fields.ts';
import { SERVICE_DEFINITION } from '../http/request-fields.ts';

test('config-only keys (tokens, a check\'s tenancy) are left out of the registration, which the agent then takes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-services-config-'));
  const file = join(dir, 'web.hcl');
  writeFileSync(file, `
service {
  name  = "web"
  port  = 8080
  token = "t1"
  check {
    id = "web-ttl"
    ttl = "30s"
    token = "t2"
    namespace = "default"
    partition = "default"
    deregister_critical_service_after = "90m"
  }
  checks = [{ name = "tcp", tcp = "127.0.0.1:8080", interval = "10s", token = "t3", tcp_use_tls = true }]
  connect {
    sidecar_service {
      port  = 21000
      token = "t4"
      check { ttl = "10s", token = "t5" }
    }
  }
}
`);
  const [reg] = await servicesFromFiles([file]);
  assert.deepEqual(reg, {
    Name: 'web', Port: 8080,
    Check: { CheckID: 'web-ttl', TTL: '30s', DeregisterCriticalServiceAfter: '90m' },
    Checks: [{ Name: 'tcp', TCP: '127.0.0.1:8080', Interval: '10s', TCPUseTLS: true }],
    Connect: { SidecarService: { Port: 21000, Check: { TTL: '10s' } } },
  });
  refuseUnknownFields(reg, SERVICE_DEFINITION);
});
