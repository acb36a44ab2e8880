// http_config as the agent builds it: Consul's defaults, the values set, and allow_write_http_from
// entries that are not CIDRs failing the build with Consul's cidrsVal text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './index.ts';
import { fakeInterfaces } from './test-fixtures.ts';

const load = (args: string[]) => loadConfig({ args, hostname: 'host-a', interfaces: fakeInterfaces });

test('defaults: use_cache on, max_header_bytes unset (Go\'s 1 MiB), nothing restricted', async () => {
  const { config } = await load(['-dev']);
  assert.deepEqual(config.http, { responseHeaders: {}, allowWriteHttpFrom: [], blockEndpoints: [], useCache: true, maxHeaderBytes: 0, disableUnprintableCharFilter: false });
});

test('disable_http_unprintable_char_filter (top level) turns the HTTP server\'s filter off', async () => {
  const { config, warnings } = await load(['-dev', '-hcl', 'disable_http_unprintable_char_filter = true']);
  assert.equal(config.http.disableUnprintableCharFilter, true);
  assert.deepEqual(warnings.filter((w) => w.includes('unprintable')), []);
});

test('every key is read; CIDRs are trimmed, from the file and the -allow-write-http-from flag; response headers as Go writes them', async () => {
  const hcl = 'http_config { use_cache = false, max_header_bytes = 4096, allow_write_http_from = [" 10.0.0.0/8 ", "::1/128"], response_headers { x-a = "b", ACCESS-control-allow-ORIGIN = " * ", "bad name" = "dropped", X-Multi = "one\\ntwo" } }';
  const { config } = await load(['-dev', '-allow-write-http-from', '192.168.0.0/16', '-hcl', hcl]);
  assert.equal(config.http.useCache, false);
  assert.equal(config.http.maxHeaderBytes, 4096);
  assert.deepEqual(config.http.allowWriteHttpFrom, ['192.168.0.0/16', '10.0.0.0/8', '::1/128']);
  // As Go writes what Consul sets: canonical names, invalid names dropped, line breaks as spaces, values trimmed.
  assert.deepEqual(config.http.responseHeaders, { 'X-A': 'b', 'Access-Control-Allow-Origin': '*', 'X-Multi': 'one two' });
});

test('an allow_write_http_from entry that is not a CIDR fails the build, as Consul\'s does', async () => {
  for (const bad of ['10.0.0.1', '10.0.0.0/33', 'nope/8', '::1/129', '10.0.0.0/', 'fe80::1%eth0/64']) {
    await assert.rejects(load(['-dev', '-hcl', `http_config { allow_write_http_from = ["${bad}"] }`]), {
      message: `1 error occurred:\n\t* allow_write_http_from: invalid cidr: ${bad}\n\n`,
    }, bad);
  }
});
