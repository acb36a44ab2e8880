import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Forwarder, ForwardResponse } from './forward.ts';
import { primaryToken } from './acl-secondary.ts';
import type { PrimaryForwardDeps } from './primary-forward.ts';

function answering(status: number, body: unknown): PrimaryForwardDeps {
  const res: ForwardResponse = { status, headers: {}, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), server: '127.0.0.1:1' };
  const forwarder = { send: async () => res } as unknown as Forwarder;
  return { primary: 'dc1', dc: { datacenter: 'dc2', nodeName: 'n', routes: { rpcAddresses: () => ['127.0.0.1:1'] }, forwarder, defaultToken: () => '' } as PrimaryForwardDeps['dc'] };
}

test("primaryToken: a secret the primary resolves without a token record (its server's agent recovery token) is not found, not an outage", async () => {
  // Taken as an outage, down_policy allow made it allow-all in the secondary.
  const d = answering(200, { Enabled: true, AccessorID: 'agent-recovery-token', Management: false, Policies: [] });
  assert.equal(await primaryToken(d, 'dc2', 'recovery-secret', new AbortController().signal), null);
});

test('primaryToken: ACL not found is null, the token comes with its grants, other failures throw', async () => {
  assert.equal(await primaryToken(answering(403, 'ACL not found'), 'dc2', 's', new AbortController().signal), null);
  const token = { AccessorID: 'a', SecretID: 's', Local: false };
  const got = await primaryToken(answering(200, { Enabled: true, AccessorID: 'a', Management: true, Policies: [], Token: token, Sources: [] }), 'dc2', 's', new AbortController().signal);
  assert.deepEqual(got, { token, sources: { management: true, sources: [] } });
  await assert.rejects(primaryToken(answering(500, 'boom'), 'dc2', 's', new AbortController().signal), /boom/);
});
