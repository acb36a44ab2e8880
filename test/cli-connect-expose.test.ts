// `proconsul connect expose` against a dev agent: the ingress-gateway entry created and then
// extended (listener per port, service replaced in place), the allow intention, Consul's messages
// and its errors (missing flags, conflicting listener protocol).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigEntriesApi } from '../src/api/config-entries.ts';
import { IntentionsApi } from '../src/api/intentions.ts';
import { cliAgent } from './support/cli.ts';

const dev = cliAgent();
const { cli } = dev;

type Listener = { Port: number; Protocol: string; Services: { Name: string; Hosts?: string[] | null }[] };
const listeners = async (gw: string): Promise<Listener[]> =>
  (await new ConfigEntriesApi(dev.client).get('ingress-gateway', gw)).data.Listeners as Listener[];

test('creates the gateway entry and the allow intention', async () => {
  assert.deepEqual(await cli(['connect', 'expose', '-service=web', '-ingress-gateway=ingress', '-port=8080']), {
    code: 0, err: '',
    out: 'Successfully updated config entry for ingress service "ingress"\nSuccessfully set up intention for "ingress" -> "web"\n',
  });
  const ls = await listeners('ingress');
  assert.equal(ls.length, 1);
  assert.equal(ls[0].Port, 8080);
  assert.equal(ls[0].Protocol, 'tcp');
  assert.deepEqual(ls[0].Services.map((s) => s.Name), ['web']);
  const ixn = await new IntentionsApi(dev.client).getExact('ingress', 'web');
  assert.equal(ixn?.Action, 'allow');
  assert.equal(ixn?.SourceType, 'consul');
});

test('exposing the same service again updates it in place and finds the intention', async () => {
  assert.deepEqual(await cli(['connect', 'expose', '-service=web', '-ingress-gateway=ingress', '-port=8080']), {
    code: 0, err: '',
    out: 'Updating service definition for "web" on listener with port 8080\nSuccessfully updated config entry for ingress service "ingress"\nIntention already exists for "ingress" -> "web"\n',
  });
  assert.deepEqual((await listeners('ingress'))[0].Services.map((s) => s.Name), ['web']);
});

test('the server\'s refusal (a second service on a tcp listener) is an error writing the entry', async () => {
  assert.deepEqual(await cli(['connect', 'expose', '-service=api', '-ingress-gateway=ingress', '-port=8080']), {
    code: 1, out: '',
    err: "Error writing ingress config entry: Unexpected response code: 500 (Multiple services per listener are only supported for L7 protocols, 'http', 'grpc' and 'http2' (listener on port 8080))\n",
  });
  assert.equal(await new IntentionsApi(dev.client).getExact('ingress', 'api'), null);
});

test('a new port makes a new listener with the protocol and hosts given; more services join it', async () => {
  // Consul refuses an http listener for a service that does not speak http.
  for (const name of ['site', 'app']) await new ConfigEntriesApi(dev.client).set({ Kind: 'service-defaults', Name: name, Protocol: 'http' });
  const res = await cli(['connect', 'expose', '-service=site', '-ingress-gateway=ingress', '-port=8081', '-protocol=http', '-host=web.example.com', '-host=w.example.com']);
  assert.equal(res.err, '');
  assert.equal(res.code, 0);
  assert.deepEqual(await cli(['connect', 'expose', '-service=app', '-ingress-gateway=ingress', '-port=8081', '-protocol=http']), {
    code: 0, err: '',
    out: 'Successfully updated config entry for ingress service "ingress"\nSuccessfully set up intention for "ingress" -> "app"\n',
  });
  const ls = await listeners('ingress');
  assert.deepEqual(ls.map((l) => [l.Port, l.Protocol]), [[8080, 'tcp'], [8081, 'http']]);
  assert.deepEqual(ls[1].Services.map((s) => s.Name), ['site', 'app']);
  assert.deepEqual(ls[1].Services[0].Hosts, ['web.example.com', 'w.example.com']);
});

test('a deny intention is replaced by allow', async () => {
  await new IntentionsApi(dev.client).upsert({ SourceName: 'ingress', DestinationName: 'db', SourceType: 'consul', Action: 'deny' });
  const res = await cli(['connect', 'expose', '-service=db', '-ingress-gateway=ingress', '-port=8082']);
  assert.equal(res.err, '');
  assert.equal(res.out, 'Successfully updated config entry for ingress service "ingress"\nSuccessfully set up intention for "ingress" -> "db"\n');
  assert.equal((await new IntentionsApi(dev.client).getExact('ingress', 'db'))?.Action, 'allow');
});

test('errors read as Consul\'s, exit 1, nothing written', async () => {
  const before = await new ConfigEntriesApi(dev.client).get('ingress-gateway', 'ingress');
  assert.deepEqual(await cli(['connect', 'expose', '-ingress-gateway=ingress', '-port=1']), { code: 1, out: '', err: 'A service name must be given via the -service flag.\n' });
  assert.deepEqual(await cli(['connect', 'expose', '-service=web', '-port=1']), {
    code: 1, out: '', err: 'An ingress gateway service must be given via the -ingress-gateway flag.\n',
  });
  assert.deepEqual(await cli(['connect', 'expose', '-service=web', '-ingress-gateway=ingress']), { code: 1, out: '', err: 'A port must be provided via the -port flag.\n' });
  assert.deepEqual(await cli(['connect', 'expose', '-service=a/b/c/d', '-ingress-gateway=ingress', '-port=1']), {
    code: 1, out: '', err: "Invalid service name: input can contain at most two '/'\n",
  });
  assert.deepEqual(await cli(['connect', 'expose', '-service=web', '-ingress-gateway=ingress', '-port=8081', '-protocol=tcp']), {
    code: 1, out: '', err: 'Listener on port 8081 already configured with conflicting protocol "http"\n',
  });
  const after = await new ConfigEntriesApi(dev.client).get('ingress-gateway', 'ingress');
  assert.equal(after.data.ModifyIndex, before.data.ModifyIndex);
  const bad = await cli(['connect', 'expose', '-nope']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^flag provided but not defined: -nope\nUsage:\n/);
  assert.match(bad.err, /Failed to parse args: flag provided but not defined: -nope\n$/);
});

test('a namespaced service goes to the server in the entry (refused here as by Consul CE)', async () => {
  const res = await cli(['connect', 'expose', '-service=team/api', '-ingress-gateway=ingress', '-port=9000']);
  assert.equal(res.code, 1);
  assert.equal(res.out, '');
  assert.match(res.err, /^Error writing ingress config entry: Unexpected response code: 400 \(.*Listeners\[\d\]\.Services\[0\]\.Namespace.*enterprise feature\)\n$/s);
});

test('an unreachable agent is an error fetching the entry', async () => {
  const res = await cli(['connect', 'expose', '-service=web', '-ingress-gateway=ingress', '-port=1', '-http-addr=127.0.0.1:1']);
  assert.equal(res.code, 1);
  assert.match(res.err, /^Error fetching existing ingress gateway configuration: .*connection refused\n$/);
});
