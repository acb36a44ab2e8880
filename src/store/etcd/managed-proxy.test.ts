// The voter proxy: connections go to the preferred voter, fail over to the next reachable one,
// and follow a changed voter list; nothing reachable closes the client's connection.
import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { after, test } from 'node:test';
import { VoterProxy } from './managed-proxy.ts';

const servers: Server[] = [];
after(() => { for (const s of servers) s.close(); });

/** A TCP server that answers every connection with its name. */
async function named(name: string): Promise<string> {
  const srv = createServer((c) => c.end(name));
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}

function ask(url: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const c = connect({ host: u.hostname, port: Number(u.port) });
    let got = '';
    c.on('data', (d) => { got += d.toString(); });
    c.on('close', () => resolve(got));
    c.on('error', () => undefined);
  });
}

test('connections reach the preferred voter, fail over when it is unreachable, and follow the voter list', async () => {
  const [a, b] = [await named('a'), await named('b')];
  const dead = await named('dead');
  servers.pop()!.close();
  const proxy = new VoterProxy();
  const front = await proxy.listen();
  proxy.setVoters([a, b]);
  assert.equal(await ask(front), 'a');
  proxy.setVoters([dead, b]);
  assert.equal(await ask(front), 'b', 'an unreachable first voter is skipped');
  proxy.setVoters([b, a]);
  assert.equal(await ask(front), 'b');
  proxy.setVoters([dead]);
  assert.equal(await ask(front), '', 'no reachable voter: the connection is closed');
  await proxy.close();
});
