// The DNS warm-up (dns/warm.ts) of a restarted secondary server that resolves its DNS token in the
// primary (no token replication): while that token has no answer from the primary, the warm-up
// builds nothing, as real questions wait for the answer (preparingDns) rather than be answered under
// this datacenter's default policy. Built then, under allow, its entries would answer later
// questions with what the primary's token may not read, until the catalog next changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevAgent } from './support/agent.ts';
import { until } from './support/wait.ts';
import { MIN_WARMED } from '../src/dns/warm.ts';

test('a restarted server warms its services\' answers, but not as a secondary waiting for the primary to resolve its DNS token', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dns-warm-acl-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { datacenter: 'dc2', dataDir, store: { backend: 'embedded' as const }, dnsAddrs: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 0 }] };
  // First run, its own primary without ACLs: enough services for a warm-up at the next start.
  const first = await startDevAgent({ config: { ...base, primaryDatacenter: 'dc2' } });
  for (let i = 0; i <= MIN_WARMED; i++) {
    const r = await fetch(`http://${first.httpAddr}/v1/catalog/register`, {
      method: 'PUT', body: JSON.stringify({ Node: `n${i}`, Address: `10.0.0.${i + 1}`, Service: { Service: `svc-${i}`, Port: 80 } }),
    });
    assert.equal(r.status, 200, await r.text());
  }
  await first.stop();
  // Restarted as it was, it warms each service's A and SRV question (and the servers' `consul`).
  const again = await startDevAgent({ config: { ...base, primaryDatacenter: 'dc2' } });
  const warmed = await again.agent.dnsHandler();
  await until('the warm-up to ask every question', 10_000, async () => warmed.questions >= 2 * (MIN_WARMED + 2), { every: 20 });
  await again.stop();
  assert.equal(warmed.questions, 2 * (MIN_WARMED + 2));
  // Restarted as a secondary of an unreachable dc1, ACLs on under allow, tokens not replicated:
  // the anonymous token the DNS asks under is the primary's to resolve.
  const dev = await startDevAgent({
    config: {
      ...base, primaryDatacenter: 'dc1',
      acl: { ...startDefaults.acl, enabled: true, defaultPolicy: 'allow' },
    },
  });
  t.after(() => dev.stop());
  const handler = await dev.agent.dnsHandler();
  // As long as the warm-up took above (its start delay, then a few slices), and more.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(handler.questions, 0, 'questions answered under the default policy before the primary resolved the DNS token');
});

/** The ACL block the test agent starts from (devConfig's). */
const startDefaults = {
  acl: {
    enabled: false, defaultPolicy: 'allow' as const, downPolicy: 'extend-cache',
    tokens: { initialManagement: '', agent: '', agentRecovery: '', default: '', replication: '', configFileServiceRegistration: '', dns: '' },
  },
};
