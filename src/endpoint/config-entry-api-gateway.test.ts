import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { testCA } from '../../test/support/tls-cert.ts';
import { conversionError, decodeObject } from './config-entry-decode.ts';
import { KIND_SHAPES } from './config-entry-kinds.ts';
import { normalizeEntry, validateEntry } from './config-entry-validate.ts';

function check(kind: string, body: Record<string, unknown>): { errors: string[]; entry: Record<string, unknown>; err: string | null } {
  const errors: string[] = [];
  const entry = decodeObject(KIND_SHAPES[kind], { Kind: kind, Name: 'n', ...body }, '', errors) as Record<string, unknown>;
  const err = normalizeEntry(kind, entry) ?? validateEntry(kind, entry);
  return { errors, entry, err };
}

const listener = (over: Record<string, unknown> = {}) => ({ Name: 'l1', Port: 8080, Protocol: 'HTTP', ...over });

test('api-gateway: protocols lower-cased, certificate kinds defaulted, zero values filled in', () => {
  const { errors, entry, err } = check('api-gateway', { listeners: [listener({ tls: { certificates: [{ name: 'c' }] } })] });
  assert.deepEqual([errors, err], [[], null]);
  assert.deepEqual(entry.Listeners, [{
    Name: 'l1', Port: 8080, Protocol: 'http', Hostname: '',
    TLS: { Certificates: [{ Kind: 'inline-certificate', Name: 'c', SectionName: '' }], MaxVersion: '', MinVersion: '', CipherSuites: null },
  }]);
  assert.deepEqual(check('api-gateway', { Listeners: [listener({ Bogus: 1 })] }).errors, ['invalid config key "Listeners[0].Bogus"']);
});

test("api-gateway: Consul's Validate texts", () => {
  const err = (listeners: unknown[]) => check('api-gateway', { Listeners: listeners }).err;
  assert.equal(err([]), 'api gateway must have at least one listener');
  assert.equal(err([listener({ Name: 'L_1' })]), 'listener name "L_1" is invalid, must be at least 1 character and contain only letters, numbers, or dashes');
  assert.equal(err([listener(), listener({ Port: 9 })]), 'found multiple listeners with the name "l1"');
  assert.equal(err([listener(), listener({ Name: 'l2', Protocol: 'tcp' })]), 'listeners "l1" and "l2" cannot be merged');
  assert.equal(err([listener({ Protocol: 'grpc' })]), `unsupported listener protocol "grpc", must be one of 'tcp', or 'http'`);
  assert.equal(err([listener({ Protocol: 'tcp', Hostname: 'a.example' })]), 'hostname specification is not supported when using TCP');
  assert.equal(err([listener({ Port: 70000 })]), 'listener port 70000 not in the range 1-65535');
  assert.equal(err([listener({ Hostname: 'a.*.example' })]), 'host "a.*.example" is not valid, a wildcard specifier is only allowed as the left-most label');
  assert.equal(err([listener({ Hostname: '*.example' })]), null);
  assert.equal(err([listener({ TLS: { Certificates: [{ Kind: 'secret', Name: 'c' }] } })]), `unsupported certificate kind: "secret", must be 'inline-certificate' or 'file-system-certificate'`);
  assert.equal(err([listener({ TLS: { Certificates: [{}] } })]), 'certificate reference must have a name');
  assert.match(String(err([listener({ TLS: { MinVersion: 'tls12' } })])), /^no matching TLS version found for tls12, please specify one of \[TLS_AUTO, /);
});

test('http-route: parents, matches and weights normalized as Consul does, zero values filled in', () => {
  const { errors, entry, err } = check('http-route', {
    Parents: [{ Name: 'gw' }],
    Rules: [{ Matches: [{ Method: 'get' }, { Path: { Match: 'exact', Value: '/x' } }], Services: [{ Name: 'a' }, { Name: 'b', Weight: 9 }] }],
  });
  assert.deepEqual([errors, err], [[], null]);
  assert.deepEqual(entry.Parents, [{ Kind: 'api-gateway', Name: 'gw', SectionName: '' }]);
  const filters = { Headers: null, URLRewrite: null, RetryFilter: null, TimeoutFilter: null, JWT: null };
  assert.deepEqual(entry.Rules, [{
    Filters: filters, ResponseFilters: { Headers: null },
    Matches: [
      { Headers: null, Method: 'GET', Path: { Match: 'prefix', Value: '/' }, Query: null },
      { Headers: null, Method: '', Path: { Match: 'exact', Value: '/x' }, Query: null },
    ],
    Services: [
      { Name: 'a', Weight: 1, Filters: filters, ResponseFilters: { Headers: null } },
      { Name: 'b', Weight: 9, Filters: filters, ResponseFilters: { Headers: null } },
    ],
  }]);
});

test("http-route and tcp-route: Consul's Validate texts", () => {
  const http = (body: Record<string, unknown>) => check('http-route', body).err;
  const rule = (m: Record<string, unknown>) => ({ Rules: [{ Matches: [m] }] });
  assert.equal(http({ Hostnames: ['*.example.com'] }), 'host "*.example.com" must not be a wildcard');
  assert.equal(http({ Hostnames: ['a..b'] }), 'host "a..b" must be a valid DNS hostname');
  assert.equal(http({ Parents: [{ Kind: 'ingress-gateway', Name: 'g' }] }), `unsupported parent kind: "ingress-gateway", must be 'api-gateway'`);
  assert.equal(http({ Parents: [{ Name: 'g' }, { Name: 'g', Kind: 'api-gateway' }] }), 'route parents must be unique');
  assert.equal(http(rule({ Method: 'FETCH' })), 'Rule[0], Match[0], Method contains an invalid method "FETCH"');
  assert.equal(http(rule({ Query: [{ Match: 'exact' }] })), 'Rule[0], Match[0], Query[0], missing required Name field');
  assert.equal(http(rule({ Headers: [{ Name: 'x', Match: 'contains' }] })), 'Rule[0], Match[0], Headers[0], match type should be one of present, exact, prefix, suffix, or regex');
  assert.equal(http(rule({ Path: { Match: 'prefix', Value: 'api' } })), `Rule[0], Match[0], Path, prefix type match doesn't start with '/': "api"`);
  assert.equal(http(rule({ Path: { Match: 'glob', Value: '/' } })), 'Rule[0], Match[0], Path, match type should be one of exact, prefix, or regex');
  assert.equal(http(rule({ Path: { Match: 'regex', Value: '.*' } })), null);
  assert.equal(check('tcp-route', { Services: [{ Name: 'a' }, { Name: 'b' }] }).err, 'tcp-route currently only supports one service');
  const tcp = check('tcp-route', { Services: [{ Name: 'a' }], Parents: [{ Name: 'g', SectionName: 'l' }] });
  assert.deepEqual([tcp.err, tcp.entry.Parents], [null, [{ Kind: 'api-gateway', Name: 'g', SectionName: 'l' }]]);
});

test('inline-certificate: the certificate and key are parsed and must match', async () => {
  const ca = await testCA();
  const a = await ca.issue('api.example.com', 'server', ['api.example.com']);
  const b = await ca.issue('other.example.com', 'server');
  const err = (Certificate: string, PrivateKey: string) => check('inline-certificate', { Certificate, PrivateKey }).err;
  assert.equal(err(a.cert, a.key), null);
  assert.equal(err(a.cert, 'key'), 'failed to parse private key PEM');
  assert.equal(err('cert', a.key), 'failed to parse certificate PEM');
  assert.equal(err(a.cert, b.key), 'tls: private key does not match public key');
  // A key that does not parse is found by Go's X509KeyPair, after the certificate's checks (an RSA PKCS#1 key's length check comes first).
  const junk = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
  assert.equal(err('cert', junk), 'failed to parse certificate PEM');
  assert.equal(err(a.cert, junk), 'tls: failed to parse private key');
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  assert.equal(err(a.cert, small), 'key length must be at least 2048 bits');
  // A file-system-certificate holds paths: only its Meta is checked.
  assert.equal(check('file-system-certificate', { Certificate: '/c.pem', PrivateKey: '/k.pem' }).err, null);
});

test("http-route: HCL's one-element block lists and snake_case keys decode to Consul's fields", () => {
  const { errors, entry, err } = check('http-route', {
    parents: [{ name: 'gw', section_name: 'web' }],
    rules: [{
      filters: [{ headers: [{ add: [{ 'x-a': '1' }] }], url_rewrite: [{ path: '/v2' }], retry_filter: [{ num_retries: 2, retry_on_status_codes: [503] }] }],
      matches: [{ path: [{ match: 'prefix', value: '/api' }], headers: [{ match: 'exact', name: 'x-v', value: '2' }] }],
      services: [{ name: 'api', weight: 3 }],
    }],
  });
  assert.deepEqual([errors, err], [[], null]);
  const rule = (entry.Rules as Record<string, any>[])[0];
  assert.deepEqual(entry.Parents, [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'web' }]);
  assert.deepEqual([rule.Filters.Headers, rule.Filters.URLRewrite, rule.Filters.RetryFilter], [[{ Add: { 'x-a': '1' } }], { Path: '/v2' }, { NumRetries: 2, RetryOnStatusCodes: [503] }]);
  assert.deepEqual(rule.Matches[0], { Headers: [{ Match: 'exact', Name: 'x-v', Value: '2' }], Method: '', Path: { Match: 'prefix', Value: '/api' }, Query: null });
  assert.equal(rule.Services[0].Weight, 3);
});

test('http-route: TimeoutFilter durations are integer nanoseconds (Go duration strings decoded), filters and rules in struct order', () => {
  const { errors, entry, err } = check('http-route', {
    Rules: [{
      Services: [{ Name: 's', Filters: { TimeoutFilter: { IdleTimeout: '1m30s' } } }],
      Filters: { TimeoutFilter: { RequestTimeout: '10s', IdleTimeout: 1500000000 }, Headers: [{ Set: { a: 'b' } }] },
    }],
  });
  assert.deepEqual([errors, err], [[], null]);
  const rule = (entry.Rules as Record<string, any>[])[0];
  assert.deepEqual(Object.keys(rule), ['Filters', 'ResponseFilters', 'Matches', 'Services']);
  assert.deepEqual(Object.keys(rule.Filters), ['Headers', 'URLRewrite', 'RetryFilter', 'TimeoutFilter', 'JWT']);
  assert.deepEqual(rule.Filters.TimeoutFilter, { RequestTimeout: 10_000_000_000, IdleTimeout: 1_500_000_000 });
  assert.deepEqual(rule.Services[0].Filters.TimeoutFilter, { RequestTimeout: 0, IdleTimeout: 90_000_000_000 });
  const bad = check('http-route', { Rules: [{ Filters: { TimeoutFilter: { RequestTimeout: 'soon', IdleTimeout: '10' } } }] }).errors;
  assert.equal(conversionError(bad),
    "2 error(s) decoding:\n\n* error decoding 'Rules[0].Filters.TimeoutFilter.IdleTimeout': time: missing unit in duration \"10\"\n"
    + "* error decoding 'Rules[0].Filters.TimeoutFilter.RequestTimeout': time: invalid duration \"soon\"");
});
