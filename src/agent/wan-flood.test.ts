import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Member } from '../gossip/index.ts';
import { floodTargets } from './wan-flood.ts';

const m = (name: string, tags: Record<string, string>, state: Member['state'] = 'alive', addr = '10.0.0.1'): Member =>
  ({ name, addr, port: 8301, tags, incarnation: 1, state, stateChange: 0 });

test('flood targets: this datacenter\'s alive LAN servers with a WAN port that the WAN pool lacks', () => {
  const lan = [
    m('s1', { role: 'consul', dc: 'dc1', wan_join_port: '8302' }, 'alive', '10.0.0.1'),
    m('s2', { role: 'consul', dc: 'dc1', wan_join_port: '9302' }, 'alive', '10.0.0.2'),
    m('s3', { role: 'consul', dc: 'dc1', wan_join_port: '8302' }, 'dead', '10.0.0.3'),
    m('s4', { role: 'consul', dc: 'dc1', wan_join_port: '-1' }, 'alive', '10.0.0.4'),
    m('c1', { role: 'node', dc: 'dc1' }, 'alive', '10.0.0.5'),
    m('x1', { role: 'consul', dc: 'dc2', wan_join_port: '8302' }, 'alive', '10.0.0.6'),
    m('s5', { role: 'consul', dc: 'dc1', wan_join_port: '8302' }, 'alive', 'fe80::1'),
  ];
  const wan = [m('s1.dc1', { role: 'consul', dc: 'dc1' })];
  assert.deepEqual(floodTargets(lan, wan, 'dc1'), ['10.0.0.2:9302', '[fe80::1]:8302']);
});
