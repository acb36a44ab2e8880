import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapConfigEntries, type ConfigBootstrapDeps } from './config-bootstrap.ts';

function deps(over: Partial<ConfigBootstrapDeps['config']>, existing: string[] = [], fail?: string) {
  const applied: Array<[unknown, number | undefined, unknown?]> = [];
  const d: ConfigBootstrapDeps = {
    config: {
      datacenter: 'dc1', primaryDatacenter: '', connect: { enabled: false, caProvider: '', caConfig: {} },
      configEntriesBootstrap: [
        { kind: 'proxy-defaults', name: 'global', config: [{ protocol: 'http' }] },
        { Kind: 'service-defaults', Name: 'web', Protocol: 'grpc' },
      ],
      ...over,
    },
    replica: { configEntries: { get: (kind: string, name: string) => (existing.includes(`${kind}/${name}`) ? { Kind: kind, Name: name } : undefined) } } as unknown as ConfigBootstrapDeps['replica'],
    entries: () => ({
      apply: async (raw: unknown, cas: number | undefined, _authz?: unknown, ent?: unknown) => {
        if (fail) throw new Error(fail);
        applied.push(ent === undefined ? [raw, cas] : [raw, cas, ent]);
        return true;
      },
    }),
  };
  return { d, applied };
}

test('the primary datacenter writes absent entries with CAS 0 and leaves existing ones', async () => {
  const { d, applied } = deps({}, ['service-defaults/web']);
  await bootstrapConfigEntries(d);
  assert.deepEqual(applied, [[{ kind: 'proxy-defaults', name: 'global', config: [{ protocol: 'http' }] }, 0]]);
  const named = deps({ primaryDatacenter: 'dc1' });
  await bootstrapConfigEntries(named.d);
  assert.equal(named.applied.length, 2);
});

test('a secondary datacenter bootstraps nothing', async () => {
  const { d, applied } = deps({ primaryDatacenter: 'dc2' });
  await bootstrapConfigEntries(d);
  assert.deepEqual(applied, []);
});

test('intentions need Connect; a failed write names the entry (Consul\'s texts)', async () => {
  const intentions = deps({ configEntriesBootstrap: [{ kind: 'service-intentions', name: 'db', sources: [{ name: 'web', action: 'allow' }] }] });
  await assert.rejects(bootstrapConfigEntries(intentions.d), {
    message: 'Refusing to apply configuration entry "service-intentions" / "db" because Connect must be enabled to bootstrap intentions',
  });
  assert.deepEqual(intentions.applied, []);
  const failing = deps({}, [], 'boom');
  await assert.rejects(bootstrapConfigEntries(failing.d), { message: 'Failed to apply configuration entry "proxy-defaults" / "global": boom' });
});

test('an entry naming a namespace is written there (its Namespace field taken out), partition-level kinds in the partition', async () => {
  const { d, applied } = deps({ configEntriesBootstrap: [
    { Kind: 'service-defaults', Name: 'web', Namespace: 'team-a', Protocol: 'http' },
    { kind: 'service-defaults', name: 'db', namespace: 'default', protocol: 'tcp' },
  ] }, ['service-defaults/web']);
  await bootstrapConfigEntries(d);
  // web exists in the default namespace only: team-a's is still written.
  assert.deepEqual(applied, [
    [{ Kind: 'service-defaults', Name: 'web', Protocol: 'http' }, 0, { namespace: 'team-a', partition: 'default' }],
    [{ kind: 'service-defaults', name: 'db', protocol: 'tcp' }, 0],
  ]);
});
