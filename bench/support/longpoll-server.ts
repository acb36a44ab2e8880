// The reference for bench/fanout.ts: a plain node:http server that holds every GET carrying an
// `index` parameter (a long-poll, as a blocking query) and answers those whose path is exactly
// the one named by `PUT /fire?path=P` with the body of that PUT, all at once; the floor of
// what answering N held requests costs in Node. `GET /held` returns how many it holds.
// With `--tls-dir DIR` (DIR/server.pem, server-key.pem) the same handler also serves
// HTTPS with HTTP/2 negotiated by ALPN through node:http2's request/response API, at most 250
// concurrent streams per connection and TCP_NODELAY, as the agent's HTTPS listener does.
// Prints `{"http":"127.0.0.1:PORT"}` (plus `"https"`) once listening; exits on SIGTERM or when
// stdin closes. The stdin line `memory` answers with one JSON line: process.memoryUsage() after a
// full GC when started with --expose-gc (as scale-agent.ts's command).
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

const { values: opts } = parseArgs({ options: { 'tls-dir': { type: 'string' } } });

const held = new Map<string, Set<Res>>();
let count = 0;

function serve(req: Req, res: Res): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'GET' && url.pathname === '/held') {
    res.end(String(count));
  } else if (req.method === 'GET' && url.searchParams.has('index')) {
    let set = held.get(url.pathname);
    if (!set) held.set(url.pathname, (set = new Set()));
    set.add(res);
    count++;
    res.once('close', () => { if (set.delete(res)) count--; });
  } else if (req.method === 'GET') {
    res.setHeader('X-Consul-Index', '1');
    res.end('[]');
  } else if (req.method === 'PUT' && url.pathname === '/fire') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const set = held.get(url.searchParams.get('path') ?? '') ?? new Set();
      const index = String(Date.now());
      // Both APIs' writeHead take (status, headers); the union of their overloads is not callable.
      for (const r of set as Set<http.ServerResponse>) {
        r.writeHead(200, { 'Content-Type': 'application/json', 'X-Consul-Index': index, 'Content-Length': body.length });
        r.end(body);
      }
      count -= set.size;
      set.clear();
      res.end('true');
    });
  } else {
    res.statusCode = 404;
    res.end();
  }
}

const listen = (s: http.Server | http2.Http2SecureServer): Promise<string> =>
  new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(s.address() as { port: number }).port}`)));
const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, serve);
const addrs: { http: string; https?: string } = { http: await listen(server) };
const tlsDir = opts['tls-dir'];
if (tlsDir) {
  const secure = http2.createSecureServer({
    cert: fs.readFileSync(path.join(tlsDir, 'server.pem')), key: fs.readFileSync(path.join(tlsDir, 'server-key.pem')),
    allowHTTP1: true, noDelay: true, settings: { maxConcurrentStreams: 250 }, // TCP_NODELAY as node:http and the agent
  }, serve);
  addrs.https = await listen(secure);
}
process.stdout.write(JSON.stringify(addrs) + '\n');
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'memory') return void process.stdout.write(JSON.stringify({ error: `unknown command ${line}` }) + '\n');
  const gc = (globalThis as { gc?: (o?: object) => void }).gc;
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  setTimeout(() => process.stdout.write(JSON.stringify({ gc: Boolean(gc), ...process.memoryUsage() }) + '\n'), 500);
});
