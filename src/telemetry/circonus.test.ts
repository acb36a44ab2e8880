import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { circonusName, CirconusSink, decStrings, goExp1, histogramBin } from './circonus.ts';

test('circonus names: key and label values joined by backticks, spaces made underscores', () => {
  assert.equal(circonusName(['consul', 'api', 'http'], [{ name: 'method', value: 'GET' }, { name: 'path', value: 'v1 kv' }]), 'consul`api`http`GET`v1_kv');
});

test('histogram bins: two significant digits, lower bound, Go %3.1e', () => {
  assert.equal(histogramBin(0), 0);
  assert.equal(histogramBin(1.23), 1.2);
  assert.equal(histogramBin(99.9), 99);
  assert.equal(histogramBin(0.00157), 0.0015);
  assert.equal(histogramBin(-25), -25);
  assert.equal(histogramBin(NaN), undefined);
  assert.equal(goExp1(1.2), '1.2e+00');
  assert.equal(goExp1(0.0015), '1.5e-03');
  assert.equal(goExp1(0), '0.0e+00');
  assert.equal(goExp1(250), '2.5e+02');
  assert.deepEqual(decStrings(new Map([[25, 1], [1.2, 3], [0, 2]])), ['H[0.0e+00]=2', 'H[1.2e+00]=3', 'H[2.5e+01]=1']);
});

test('circonus sink: one PUT per interval with counters (L), int64 gauges (l) and histograms (n), then reset', async () => {
  const clock = new ManualClock();
  const sent: { url: string; body: unknown }[] = [];
  const sink = new CirconusSink('http://127.0.0.1:1/write/abc', 10_000, clock, silentLogger(), (url, body) => {
    sent.push({ url, body: JSON.parse(body) });
    return Promise.resolve(200);
  });
  sink.incrCounter(['consul', 'c'], 1, []);
  sink.incrCounter(['consul', 'c'], 2, []);
  sink.setGauge(['consul', 'h', 'g'], 7.9, []);
  sink.addSample(['consul', 't'], 1.23, []);
  sink.addSample(['consul', 't'], 1.25, []);
  sink.addSample(['consul', 't'], 30, []);
  clock.advance(9_999);
  assert.equal(sent.length, 0);
  clock.advance(1);
  assert.deepEqual(sent, [{
    url: 'http://127.0.0.1:1/write/abc',
    body: {
      'consul`c': { _type: 'L', _value: 3 }, 'consul`h`g': { _type: 'l', _value: 7 },
      'consul`t': { _type: 'n', _value: ['H[1.2e+00]=2', 'H[3.0e+01]=1'] },
    },
  }]);
  clock.advance(10_000);
  assert.equal(sent.length, 1, 'nothing new: nothing sent');
  sink.close();
});
