import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  entryIntentions, intentionDecision, intentionPrecedence, matchIntentions, sortIntentions, type IntentionsEntry,
} from './intentions.ts';

const entry = (name: string, sources: IntentionsEntry['Sources'], idx = 5, meta?: Record<string, string>): IntentionsEntry =>
  ({ Name: name, Sources: sources, Meta: meta, CreateIndex: idx, ModifyIndex: idx + 1 });

test('precedence as Consul computes it: exact destinations outrank wildcards, then exact sources', () => {
  assert.equal(intentionPrecedence('db', 'web'), 9);
  assert.equal(intentionPrecedence('db', '*'), 8);
  assert.equal(intentionPrecedence('*', 'web'), 6);
  assert.equal(intentionPrecedence('*', '*'), 5);
});

test('an entry source becomes an intention with the entry meta and the entry indexes; legacy sources keep ID and times', () => {
  const [ixn] = entryIntentions(entry('db', [{ Name: 'web', Action: 'allow', Precedence: 9, Type: 'consul' }], 7, { team: 'x' }));
  assert.deepEqual(ixn, {
    SourceNS: 'default', SourceName: 'web', DestinationNS: 'default', DestinationName: 'db', SourceType: 'consul',
    Action: 'allow', Meta: { team: 'x' }, Precedence: 9, CreateIndex: 7, ModifyIndex: 8,
  });
  assert.deepEqual(Object.keys(ixn).slice(0, 4), ['SourceNS', 'SourceName', 'DestinationNS', 'DestinationName']);
  const [legacy] = entryIntentions(entry('db', [{
    Name: 'web', Action: 'deny', Type: 'consul', LegacyID: 'abc', LegacyMeta: { k: 'v' },
    LegacyCreateTime: '2020-01-01T00:00:00Z', LegacyUpdateTime: '2020-01-02T00:00:00Z',
  }], 7, { team: 'x' }));
  assert.equal(legacy.ID, 'abc');
  assert.deepEqual(legacy.Meta, { k: 'v' });
  assert.equal(legacy.CreatedAt, '2020-01-01T00:00:00Z');
});

test('sorting: precedence first, then names', () => {
  const all = [
    ...entryIntentions(entry('*', [{ Name: '*', Action: 'deny', Precedence: 5 }])),
    ...entryIntentions(entry('db', [{ Name: 'web', Action: 'allow', Precedence: 9 }, { Name: 'api', Action: 'allow', Precedence: 9 }])),
  ];
  assert.deepEqual(sortIntentions(all).map((i) => `${i.SourceName}>${i.DestinationName}`), ['api>db', 'web>db', '*>*']);
});

const entries = [
  entry('db', [{ Name: 'web', Action: 'allow', Precedence: 9 }, { Name: '*', Action: 'deny', Precedence: 8 }, { Name: 'web', Peer: 'p1', Action: 'allow', Precedence: 9 }]),
  entry('*', [{ Name: 'web', Action: 'deny', Precedence: 6 }]),
  entry('cache', [{ Name: 'api', Permissions: [{ Action: 'allow', HTTP: { PathPrefix: '/' } }], Precedence: 9 }]),
];

test('match by destination includes the wildcard destination; by source skips peered sources', () => {
  assert.deepEqual(matchIntentions(entries, 'destination', 'db').map((i) => `${i.SourcePeer ?? ''}${i.SourceName}>${i.DestinationName}`), ['web>db', 'p1web>db', '*>db', 'web>*']);
  assert.deepEqual(matchIntentions(entries, 'source', 'web').map((i) => `${i.SourceName}>${i.DestinationName}`), ['web>db', '*>db', 'web>*']);
  assert.deepEqual(matchIntentions(entries, 'destination', 'none').map((i) => i.DestinationName), ['*']);
});

test('decision: the highest-precedence intention matching the target decides; L7 denies at L4; else the default', () => {
  const bySource = (s: string) => matchIntentions(entries, 'source', s);
  assert.equal(intentionDecision(bySource('web'), 'db', false).allowed, true);
  assert.equal(intentionDecision(bySource('other'), 'db', true).allowed, false);
  assert.equal(intentionDecision(bySource('web'), 'x', true).allowed, false);
  assert.equal(intentionDecision(bySource('api'), 'x', true).allowed, true);
  assert.equal(intentionDecision(bySource('api'), 'x', false).allowed, false);
  const l7 = intentionDecision(bySource('api'), 'cache', true);
  assert.deepEqual([l7.allowed, l7.hasPermissions], [false, true]);
  assert.equal(intentionDecision(bySource('api'), 'cache', false, true).allowed, true);
});

test('precedence with namespaces follows Consul\'s table (9 … 1)', () => {
  // [source ns, source name, destination ns, destination name, precedence]
  const table: [string, string, string, string, number][] = [
    ['team', 'web', 'team', 'db', 9],
    ['team', '*', 'team', 'db', 8],
    ['*', '*', 'team', 'db', 7],
    ['team', 'web', 'team', '*', 6],
    ['team', '*', 'team', '*', 5],
    ['*', '*', 'team', '*', 4],
    ['team', 'web', '*', '*', 3],
    ['team', '*', '*', '*', 2],
    ['*', '*', '*', '*', 1],
  ];
  for (const [sns, sname, dns, dname, want] of table) {
    assert.equal(intentionPrecedence(dname, sname, dns, sns), want, `${sns}/${sname} => ${dns}/${dname}`);
  }
  // Without namespaces (CE): as before.
  assert.equal(intentionPrecedence('db', 'web'), 9);
  assert.equal(intentionPrecedence('*', '*'), 5);
});
