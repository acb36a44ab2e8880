import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeObject } from './config-entry-decode.ts';
import { KIND_SHAPES } from './config-entry-kinds.ts';
import { normalizeEntry, validateEntry } from './config-entry-validate.ts';

function check(body: Record<string, unknown>): { errors: string[]; entry: Record<string, unknown>; err: string | null } {
  const errors: string[] = [];
  const entry = decodeObject(KIND_SHAPES.mesh, body, '', errors) as Record<string, unknown>;
  const err = normalizeEntry('mesh', entry) ?? validateEntry('mesh', entry);
  return { errors, entry, err };
}

test("mesh HTTP: snake_case keys decode, Consul's Go order and zero values are filled in", () => {
  const { errors, entry, err } = check({ Kind: 'mesh', http: { incoming: { request_normalization: { merge_slashes: true } } } });
  assert.deepEqual([errors, err], [[], null]);
  assert.deepEqual(JSON.stringify(entry.HTTP), JSON.stringify({ SanitizeXForwardedClientCert: false, Incoming: { RequestNormalization: {
    InsecureDisablePathNormalization: false, MergeSlashes: true, PathWithEscapedSlashesAction: '', HeadersWithUnderscoresAction: '',
  } } }));
  assert.deepEqual(check({ Kind: 'mesh', HTTP: { Incoming: {}, SanitizeXForwardedClientCert: true } }).entry.HTTP, { SanitizeXForwardedClientCert: true, Incoming: {} });
  assert.deepEqual(check({ Kind: 'mesh', HTTP: { Bogus: 1 } }).errors, ['invalid config key "HTTP.Bogus"']);
});

test("mesh HTTP: a bad enum value gets Consul's text", () => {
  assert.equal(check({ Kind: 'mesh', HTTP: { Incoming: { RequestNormalization: { PathWithEscapedSlashesAction: 'reject_request' } } } }).err,
    'error in HTTP incoming request normalization configuration: no matching PathWithEscapedSlashesAction value found for reject_request, please specify one of [IMPLEMENTATION_SPECIFIC_DEFAULT, KEEP_UNCHANGED, REJECT_REQUEST, UNESCAPE_AND_REDIRECT, UNESCAPE_AND_FORWARD]');
  assert.equal(check({ Kind: 'mesh', HTTP: { Incoming: { RequestNormalization: { HeadersWithUnderscoresAction: 'DROP' } } } }).err,
    'error in HTTP incoming request normalization configuration: no matching HeadersWithUnderscoresAction value found for DROP, please specify one of [ALLOW, REJECT_REQUEST, DROP_HEADER]');
  for (const v of ['IMPLEMENTATION_SPECIFIC_DEFAULT', 'UNESCAPE_AND_FORWARD', '']) {
    assert.equal(check({ Kind: 'mesh', HTTP: { Incoming: { RequestNormalization: { PathWithEscapedSlashesAction: v, HeadersWithUnderscoresAction: 'REJECT_REQUEST' } } } }).err, null);
  }
});

test('mesh HTTP: the bools decode weakly as Consul\'s mapstructure does (a "true" string is true, not a string the proxy reads as off)', () => {
  const rn = (v: unknown) => check({ Kind: 'mesh', HTTP: { SanitizeXForwardedClientCert: v, Incoming: { RequestNormalization: { MergeSlashes: v, InsecureDisablePathNormalization: v } } } });
  for (const [v, want] of [['true', true], ['1', true], ['T', true], [1, true], [0.5, true], ['false', false], ['', false], [0, false], [null, false]] as const) {
    const { errors, entry, err } = rn(v);
    assert.deepEqual([errors, err], [[], null], String(v));
    const http = entry.HTTP as { SanitizeXForwardedClientCert: unknown; Incoming: { RequestNormalization: Record<string, unknown> } };
    assert.deepEqual([http.SanitizeXForwardedClientCert, http.Incoming.RequestNormalization.MergeSlashes, http.Incoming.RequestNormalization.InsecureDisablePathNormalization], [want, want, want], String(v));
  }
  assert.deepEqual(check({ Kind: 'mesh', HTTP: { Incoming: { RequestNormalization: { MergeSlashes: 'yes' } } } }).errors,
    ['cannot parse \'HTTP.Incoming.RequestNormalization.MergeSlashes\' as bool: strconv.ParseBool: parsing "yes": invalid syntax']);
  assert.deepEqual(check({ Kind: 'mesh', http: { sanitize_x_forwarded_client_cert: [1] } }).errors,
    ['\'HTTP.SanitizeXForwardedClientCert\' expected type \'bool\', got unconvertible type \'[]interface {}\', value: \'[1]\'']);
});

test("mesh HTTP: a value that is no bool fails the decode with mapstructure's text, as Consul's Decode does before it looks at unknown keys", async () => {
  const { decodeConfigEntry } = await import('./config-entries.ts');
  assert.throws(() => decodeConfigEntry({ Kind: 'mesh', Bogus: 1, HTTP: { SanitizeXForwardedClientCert: 'no way', Incoming: { RequestNormalization: { MergeSlashes: 'yes' } } } }), {
    message: 'Request decoding failed: 2 error(s) decoding:\n\n'
      + '* cannot parse \'HTTP.Incoming.RequestNormalization.MergeSlashes\' as bool: strconv.ParseBool: parsing "yes": invalid syntax\n'
      + '* cannot parse \'HTTP.SanitizeXForwardedClientCert\' as bool: strconv.ParseBool: parsing "no way": invalid syntax',
  });
  assert.throws(() => decodeConfigEntry({ Kind: 'mesh', Bogus: 1 }), { message: 'Request decoding failed: 1 error occurred:\n\t* invalid config key "Bogus"\n\n' });
});

test('splitter: the same service in another namespace or partition is another split destination', () => {
  const ent = { partition: 'default', namespace: 'team-a' };
  const split = (splits: Record<string, unknown>[]) => {
    const e: Record<string, unknown> = { Kind: 'service-splitter', Name: 'web', Splits: splits };
    return normalizeEntry('service-splitter', e, ent) ?? validateEntry('service-splitter', e, ent);
  };
  assert.equal(split([{ Weight: 50 }, { Weight: 50, Namespace: 'team-b' }]), null);
  assert.equal(split([{ Weight: 50, Service: 'api', Namespace: 'team-b' }, { Weight: 50, Service: 'api', Partition: 'ap1' }]), null);
  assert.equal(split([{ Weight: 50, Namespace: 'team-b' }, { Weight: 50, Namespace: 'team-b' }]),
    'split destination occurs more than once: service="web", subset="", namespace="team-b", partition=""');
  // The default tenant's text is as before.
  const e: Record<string, unknown> = { Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 50 }, { Weight: 50 }] };
  assert.equal(validateEntry('service-splitter', e), 'split destination occurs more than once: service="web", subset="", namespace="default", partition="default"');
});

test('splitter in a namespace: splits compare as written (Consul\'s copyAsKey), so an absent Namespace and `default` differ', () => {
  const ent = { partition: 'default', namespace: 'team-a' };
  const split = (splits: Record<string, unknown>[]) => {
    const e: Record<string, unknown> = { Kind: 'service-splitter', Name: 'web', Splits: splits };
    return normalizeEntry('service-splitter', e, ent) ?? validateEntry('service-splitter', e, ent);
  };
  assert.equal(split([{ Weight: 50 }, { Weight: 50, Namespace: 'default' }]), null);
  assert.equal(split([{ Weight: 50 }, { Weight: 50 }]), 'split destination occurs more than once: service="web", subset="", namespace="", partition=""');
});
