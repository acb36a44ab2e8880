// The committed parser must be exactly what peggy builds from bexpr.peggy (`npm run build:filter`).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import peggy from 'peggy';

test('parser.generated.js is regenerated from bexpr.peggy byte for byte', () => {
  const dir = new URL('./', import.meta.url);
  const grammar = readFileSync(new URL('bexpr.peggy', dir), 'utf8');
  const generated = peggy.generate(grammar, {
    output: 'source',
    format: 'es',
    allowedStartRules: ['Input'],
    cache: true,
    grammarSource: 'src/filter/bexpr.peggy',
  });
  assert.equal(generated, readFileSync(new URL('parser.generated.js', dir), 'utf8'), 'run `npm run build:filter` and commit the result');
});
