// The reference for bench/fanout.ts: a plain node:http server that holds every GET carrying an
// `index` parameter (a long-poll, as a blocking query) and answers those whose path is exactly
// the one named by `PUT /fire?path=P` with the body of that PUT, all at once; the floor of
// what answering N held requests costs in Node. `GET /held` returns how many it holds.
// Prints `{"http":"127.0.0.1:PORT"}` once listening; exits on SIGTERM or when stdin closes.
import http from 'node:http';

const held = new Map<string, Set<http.ServerResponse>>();
let count = 0;

const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
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
      for (const r of set) {
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
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address() as { port: number };
  process.stdout.write(JSON.stringify({ http: `127.0.0.1:${a.port}` }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
