// The dialer's secret exchange against acceptors that cannot take it: every address tried until
// the 3 s budget runs out, the failures listed as Consul's multierror lists them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import net from 'node:net';
import { systemClock } from '../clock.ts';
import type { PeeringRecord } from '../api/peering.ts';
import { exchangeSecret } from './peer-dialer.ts';

test('an exchange no address takes fails with every attempt listed as Consul\'s multierror does', async () => {
  // A port nothing listens on: bound, then closed.
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  await new Promise((r) => srv.close(r));
  const p = { ID: 'i', Name: 'n', State: 'PENDING', PeerID: 'peer', PeerServerAddresses: [addr], Remote: { Partition: '', Datacenter: '' } } as PeeringRecord;
  const err = await exchangeSecret(p, 'secret', systemClock).then(() => null, (e: Error) => e);
  assert.ok(err);
  const lines = err.message.split('\n');
  const n = lines.filter((l) => l.startsWith('\t* ')).length;
  assert.ok(n >= 2, err.message);
  assert.equal(lines[0], `${n} errors occurred:`);
  for (const l of lines.slice(1, n + 1)) assert.match(l, new RegExp(`^\\t\\* failed to exchange peering secret through address "${addr}": .*ECONNREFUSED`));
  assert.deepEqual(lines.slice(n + 1), ['', '']);
});
