import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeObject, type Shape } from './config-entry-decode.ts';

test("a list field typed 'any' keeps a one-element list; an object field still takes one from HCL's block list", () => {
  const shape: Shape = { Sources: [{ Name: 0, Permissions: 'any' }], Redirect: 'any' };
  const errors: string[] = [];
  const out = decodeObject(shape, {
    Sources: [{ Name: 'web', Permissions: [{ Action: 'deny', HTTP: { PathPrefix: '/s', Methods: ['GET'] } }] }],
    Redirect: [{ Service: 'x' }],
  }, '', errors);
  assert.deepEqual(errors, []);
  assert.deepEqual(out, {
    Sources: [{ Name: 'web', Permissions: [{ Action: 'deny', HTTP: { PathPrefix: '/s', Methods: ['GET'] } }] }],
    Redirect: { Service: 'x' },
  });
});
