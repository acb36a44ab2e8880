import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.ts';
import { silentLogger } from '../../log.ts';
import type { ServiceConfigResponse } from '../../api/service-config-types.ts';
import { decodeService } from './definition.ts';
import { LocalAgent, type LocalAgentParts } from './local-agent.ts';
import { LocalState } from './state.ts';
import { ServiceManager, type ServiceConfigSource } from './service-manager.ts';

const answer: ServiceConfigResponse = { ProxyConfig: { protocol: 'http' }, MeshGateway: {}, Expose: {}, TransparentProxy: {}, Mode: '' };

function agentWith(source: ServiceConfigSource, sidecarPorts = { min: 0, max: 0 }) {
  const clock = new ManualClock();
  const state = new LocalState({ clock, random: () => 0, nodeName: 'n1', checkUpdateIntervalMs: 0, triggerSync: () => {} });
  const manager = new ServiceManager({ source, clock, logger: silentLogger(), agentToken: () => '' });
  const parts = {
    nodeName: 'n1', state, logger: silentLogger(), nowSeconds: () => 0, sidecarPorts,
    ae: { pause: () => {}, resume: () => {} }, runners: { stop: () => {}, run: () => {} },
    serviceManager: () => manager,
  } as unknown as LocalAgentParts;
  return new LocalAgent(parts);
}

test('a proxy registration that fails after its central defaults were fetched ends its watch', async () => {
  const signals: AbortSignal[] = [];
  let first = true;
  const source: ServiceConfigSource = {
    resolve: (_req, _token, _index, signal) => {
      signals.push(signal);
      if (first) {
        first = false;
        return Promise.resolve({ value: answer, index: 3 });
      }
      return new Promise(() => {});
    },
  };
  const agent = agentWith(source);
  // A sidecar without a port, on an agent that assigns none: AddService refuses it.
  const def = decodeService({ Name: 'web-sidecar-proxy', ID: 'web-sidecar-proxy', Kind: 'connect-proxy', LocallyRegisteredAsSidecar: true, Proxy: { DestinationServiceName: 'web', DestinationServiceID: 'web' } });
  def.service.LocallyRegisteredAsSidecar = true;
  await agent.prepare(def, 't');
  await new Promise((r) => setImmediate(r));
  assert.equal(signals.length, 2, 'the watch blocks after its first answer');
  assert.throws(() => agent.addService(def, { source: 'remote', persist: false, token: 't' }), /no port provided for sidecar_service/);
  assert.equal(agent.state.service('web-sidecar-proxy'), undefined);
  assert.equal(signals[1]!.aborted, true, 'nothing registered, nothing watched');
});
