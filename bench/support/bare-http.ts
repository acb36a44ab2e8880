// The node:http ceiling of the KV bench: a bare node:http server in its own process that answers
// any GET with one fixed JSON body shaped like a KV read of a 256-byte value, and any PUT by
// reading the body and answering `true`. No routing, parsing or storage: what any Node HTTP server
// can do at best on this host, driven by the same load client as the agent. Prints
// `{"http":"127.0.0.1:PORT"}` on stdout; exits on SIGTERM/SIGINT or when stdin closes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { VALUE_SIZE } from './kv-data.ts';

const GET_BODY = JSON.stringify([{
  LockIndex: 0, Key: 'k0', Flags: 0, Value: Buffer.alloc(VALUE_SIZE, 'proconsul-bench-value-').toString('base64'),
  CreateIndex: 4097, ModifyIndex: 4097,
}]);
const GET_HEADERS = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(GET_BODY)) };
const PUT_HEADERS = { 'Content-Type': 'application/json', 'Content-Length': '4' };

const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
  if (req.method !== 'PUT') {
    res.writeHead(200, GET_HEADERS);
    res.end(GET_BODY);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (Buffer.concat(chunks).length !== VALUE_SIZE) res.writeHead(400).end();
    else res.writeHead(200, PUT_HEADERS).end('true');
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ http: `127.0.0.1:${port}` }) + '\n');
});
const stop = (): void => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
