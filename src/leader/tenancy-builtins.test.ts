// The builtin default partition and namespace: written once, create-only, with Consul
// Enterprise's descriptions; a second leader racing the first writes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import { DEFAULT_ENT, Replica } from '../state/index.ts';
import { ensureBuiltinTenancy } from './tenancy-builtins.ts';

test('the builtin records are written once, create-only', async () => {
  const store = new MemoryStore();
  const a = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  const b = new Replica({ store, clock: new ManualClock(), logger: silentLogger() });
  await a.start();
  await b.start();
  try {
    // Two leaders that both saw nothing: one writes, the other's compares fail quietly.
    await Promise.all([ensureBuiltinTenancy({ store, replica: a }), ensureBuiltinTenancy({ store, replica: b })]);
    const ap = a.tenants.partitions.partition('default');
    const ns = a.tenants.namespaces.namespace(DEFAULT_ENT);
    assert.deepEqual({ ...ap }, { Name: 'default', Description: 'Builtin Default Partition', CreateIndex: ap!.CreateIndex, ModifyIndex: ap!.CreateIndex });
    assert.deepEqual({ ...ns }, { Name: 'default', Description: 'Builtin Default Namespace', CreateIndex: ap!.CreateIndex, ModifyIndex: ap!.CreateIndex });
    const rev = await store.currentRevision();
    await ensureBuiltinTenancy({ store, replica: a });
    assert.equal(await store.currentRevision(), rev, 'nothing written when both exist');
    const { kvs } = await store.range('tenancy/');
    assert.deepEqual(kvs.map((kv) => kv.key), ['tenancy/namespace/default/default', 'tenancy/partition/default']);
  } finally {
    a.stop();
    b.stop();
  }
});
