// The stream tracker: Consul's StreamStatus shape, and a peering connected while any of its
// streams is open (a reconnect may open the next before the last one closes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { PeeringTracker } from './peering-tracker.ts';

test('status is null lists and times until something happens, then Go times', () => {
  const clock = new ManualClock(Date.parse('2026-01-02T03:04:05Z'));
  const t = new PeeringTracker(clock);
  assert.deepEqual(t.status('p'), { ImportedServices: null, ExportedServices: null, LastHeartbeat: null, LastReceive: null, LastSend: null });
  t.received('p', false);
  clock.advance(1500);
  t.received('p', true);
  t.sent('p');
  t.setExported('p', ['web', 'api']);
  assert.deepEqual(t.status('p'), {
    ImportedServices: null, ExportedServices: ['api', 'web'],
    LastHeartbeat: '2026-01-02T03:04:06.5Z', LastReceive: '2026-01-02T03:04:06.5Z', LastSend: '2026-01-02T03:04:06.5Z',
  });
});

test('an old stream closing after a new one opened leaves the peering connected', () => {
  const t = new PeeringTracker(new ManualClock());
  t.connected('p');
  t.connected('p');
  t.disconnected('p', 'reset');
  assert.equal(t.get('p')?.connected, true);
  t.disconnected('p', 'reset');
  assert.deepEqual([t.get('p')?.connected, t.get('p')?.disconnectError], [false, 'reset']);
  // A dial that fails with nothing open records its error.
  t.disconnected('p', 'refused');
  assert.equal(t.get('p')?.disconnectError, 'refused');
});
