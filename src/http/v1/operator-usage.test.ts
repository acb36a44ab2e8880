// /v1/operator/usage?global: the caller is authorized (operator:read) before any other
// datacenter is asked, as Consul's Operator.Usage checks the ACL before fanning out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PermissionDeniedError } from '../../errors.ts';
import { silentLogger } from '../../log.ts';
import type { HttpRequest } from '../request.ts';
import { operatorUsageHandler } from './operator-usage.ts';

test('a caller without operator:read is refused before any remote datacenter is asked', async () => {
  const asked: string[] = [];
  const handler = operatorUsageHandler({
    usage: async () => { throw new PermissionDeniedError('Permission denied: token lacks operator:read'); },
    reqCfg: { datacenter: 'dc1', defaultToken: '' },
    remotes: { datacenters: () => ['dc1', 'dc2', 'dc3'], ask: async (dc) => { asked.push(dc); return { status: 403, raw: 'Permission denied' }; } },
    logger: silentLogger(),
  });
  const req = { query: new URLSearchParams('global'), headers: {} } as unknown as HttpRequest;
  await assert.rejects(handler(req), PermissionDeniedError);
  assert.deepEqual(asked, []);
});
