// The write-time chain check: which chains a proposed entry can break, and Consul's texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigEntriesTable, CONFIG_PREFIX } from '../state/index.ts';
import { checkChainGraph } from './config-entry-graph.ts';

let rev = 0;
function table(entries: Array<Record<string, unknown>>): ConfigEntriesTable {
  const t = new ConfigEntriesTable();
  for (const e of entries) {
    rev++;
    const kv = { key: `${CONFIG_PREFIX}${e.Kind}/${e.Name}`, value: Buffer.from(JSON.stringify(e)), createRevision: rev, modRevision: rev, version: 1 };
    t.apply({ type: 'put', kv } as never);
  }
  return t;
}

test('a splitter on a tcp service is refused; on http it passes', () => {
  const splitter = { Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 100, Service: 'web2' }] };
  assert.throws(() => checkChainGraph(table([]), 'service-splitter', 'web', splitter),
    { message: 'discovery chain "web" uses a protocol "tcp" that does not permit advanced routing or splitting behavior' });
  const pd = { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } };
  checkChainGraph(table([pd]), 'service-splitter', 'web', splitter);
});

test('changing a service another chain leads to re-checks that chain', () => {
  const t = table([
    { Kind: 'service-defaults', Name: 'web', Protocol: 'http' },
    { Kind: 'service-defaults', Name: 'web2', Protocol: 'http' },
    { Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 50, Service: 'web2' }, { Weight: 50 }] },
  ]);
  assert.throws(() => checkChainGraph(t, 'service-defaults', 'web2', { Kind: 'service-defaults', Name: 'web2', Protocol: 'grpc' }),
    // Legs are resolved in order, so web2's protocol is recorded first.
    { message: 'discovery chain "web" uses inconsistent protocols; service "web" has "http" which is not "grpc"' });
  // Deleting proxy-defaults re-checks every chain with a router, splitter or resolver.
  const viaProxy = table([
    { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } },
    { Kind: 'service-router', Name: 'api', Routes: [] },
  ]);
  assert.throws(() => checkChainGraph(viaProxy, 'proxy-defaults', 'global', null), /discovery chain "api" uses a protocol "tcp"/);
});

test('kinds outside the chain are not checked', () => {
  checkChainGraph(table([]), 'service-intentions', 'web', { Kind: 'service-intentions', Name: 'web' });
});
