import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MESH_HTTP, meshHttp } from './mesh-http.ts';

test("no entry, no HTTP block or empty values: Consul's defaults (path normalized, nothing else)", () => {
  assert.deepEqual(meshHttp(undefined), DEFAULT_MESH_HTTP);
  assert.deepEqual(meshHttp({ Kind: 'mesh', Name: 'mesh' }), DEFAULT_MESH_HTTP);
  assert.deepEqual(meshHttp({ HTTP: { SanitizeXForwardedClientCert: false, Incoming: { RequestNormalization: {
    InsecureDisablePathNormalization: false, MergeSlashes: false, PathWithEscapedSlashesAction: '', HeadersWithUnderscoresAction: '',
  } } } }), DEFAULT_MESH_HTTP);
  assert.equal(meshHttp({ HTTP: { Incoming: { RequestNormalization: { PathWithEscapedSlashesAction: 'IMPLEMENTATION_SPECIFIC_DEFAULT' } } } }).normalization.escapedSlashes, 'KEEP_UNCHANGED');
});

test('every setting is read', () => {
  assert.deepEqual(meshHttp({ HTTP: { SanitizeXForwardedClientCert: true, Incoming: { RequestNormalization: {
    InsecureDisablePathNormalization: true, MergeSlashes: true, PathWithEscapedSlashesAction: 'UNESCAPE_AND_REDIRECT', HeadersWithUnderscoresAction: 'DROP_HEADER',
  } } } }), { sanitizeXfcc: true, normalization: { normalizePath: false, mergeSlashes: true, escapedSlashes: 'UNESCAPE_AND_REDIRECT', underscores: 'DROP_HEADER' } });
});
