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

test('an ingress-gateway entry needs each named service to speak its listener protocol (wildcards unchecked)', () => {
  const gw = (protocol: string, svc: string) => ({ Kind: 'ingress-gateway', Name: 'ingress', Listeners: [{ Port: 8080, Protocol: protocol, Services: [{ Name: svc }] }] });
  assert.throws(() => checkChainGraph(table([]), 'ingress-gateway', 'ingress', gw('http', 'web')),
    /^InternalError: service "web" has protocol "tcp", which does not match defined listener protocol "http"$/);
  checkChainGraph(table([{ Kind: 'service-defaults', Name: 'web', Protocol: 'http' }]), 'ingress-gateway', 'ingress', gw('http', 'web'));
  checkChainGraph(table([]), 'ingress-gateway', 'ingress', gw('http', '*'));
  checkChainGraph(table([]), 'ingress-gateway', 'ingress', gw('tcp', 'db'));
  // The gateway's own write must match exactly, even on a tcp listener.
  assert.throws(() => checkChainGraph(table([{ Kind: 'service-defaults', Name: 'web', Protocol: 'http' }]), 'ingress-gateway', 'ingress', gw('tcp', 'web')),
    /service "web" has protocol "http", which does not match defined listener protocol "tcp"/);
  checkChainGraph(table([]), 'ingress-gateway', 'ingress', null);
});

test('a chain write under an ingress listener must keep its protocol; a tcp listener may front a chain that starts at a resolver', () => {
  const t = table([
    { Kind: 'service-defaults', Name: 'web', Protocol: 'http' },
    { Kind: 'ingress-gateway', Name: 'ingress', Listeners: [{ Port: 8080, Protocol: 'http', Services: [{ Name: 'web' }] }, { Port: 9090, Protocol: 'tcp', Services: [{ Name: 'db' }] }] },
  ]);
  assert.throws(() => checkChainGraph(t, 'service-defaults', 'web', { Kind: 'service-defaults', Name: 'web', Protocol: 'tcp' }),
    /service "web" has protocol "tcp", which does not match defined listener protocol "http"/);
  checkChainGraph(t, 'service-defaults', 'db', { Kind: 'service-defaults', Name: 'db', Protocol: 'http' });
  // db behind the tcp listener may turn grpc: its chain starts at its resolver.
  checkChainGraph(t, 'proxy-defaults', 'global', { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'grpc' } });
  // api has no service-defaults: the global protocol is what its http listener needs.
  const viaGlobal = table([
    { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } },
    { Kind: 'ingress-gateway', Name: 'ingress', Listeners: [{ Port: 8080, Protocol: 'http', Services: [{ Name: 'api' }] }] },
  ]);
  assert.throws(() => checkChainGraph(viaGlobal, 'proxy-defaults', 'global', { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'tcp' } }),
    /^InternalError: service "api" has protocol "tcp", which does not match defined listener protocol "http"$/);
});
