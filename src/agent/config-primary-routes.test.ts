import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writesConfigEntries } from './config-primary-routes.ts';

test('config entry and intention writes are the primary\'s; reads and other routes are not', () => {
  const primary: [string, string][] = [
    ['PUT', '/v1/config'], ['DELETE', '/v1/config/service-defaults/web'], ['POST', '/v1/connect/intentions'],
    ['PUT', '/v1/connect/intentions/exact'], ['DELETE', '/v1/connect/intentions/exact'],
    ['PUT', '/v1/connect/intentions/0b3a4c1e-0000-0000-0000-000000000000'], ['DELETE', '/v1/connect/intentions/0b3a4c1e-0000-0000-0000-000000000000'],
  ];
  for (const [m, p] of primary) assert.equal(writesConfigEntries(m, p), true, `${m} ${p}`);
  const local: [string, string][] = [
    ['GET', '/v1/config/service-defaults'], ['GET', '/v1/connect/intentions'], ['GET', '/v1/connect/intentions/check'],
    ['GET', '/v1/connect/intentions/exact'], ['POST', '/v1/agent/connect/authorize'], ['PUT', '/v1/kv/config'],
    ['GET', '/v1/exported-services'], ['PUT', '/v1/configuration'],
  ];
  for (const [m, p] of local) assert.equal(writesConfigEntries(m, p), false, `${m} ${p}`);
});
