// How the HTTP transport writes answers: path cleaning, Consul's text and JSON bodies with the
// X-Consul-* headers from query meta, and bounded request-body reading with 413s.
import type http from 'node:http';
import type { Readable } from 'node:stream';
import { TooLargeError } from '../errors.ts';
import type { HttpResult } from './router.ts';
import { renderJson, type RenderedBodies } from './rendered-bodies.ts';
import { CapturingMessage, type BodySink } from './incoming.ts';

/** A complete answer before it is written. */
export interface Outcome {
  status: number;
  headers: Record<string, string>;
  /** A string is written as UTF-8. */
  body: Buffer | string;
  stream?: HttpResult['stream'];
  /** Consul's metric path label, e.g. `v1_kv_`. */
  label?: string;
}

/** Go's path.Clean, keeping a trailing slash, as net/http's ServeMux does before routing. */
export function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  let out = '/' + parts.join('/');
  if (p.endsWith('/') && out !== '/') out += '/';
  return out;
}

/** Consul's index handler text for a path no endpoint serves. */
export function notFoundText(path: string): string {
  return path.includes('/v1/')
    ? 'Invalid URL path: not a recognized HTTP API endpoint\n'
    : "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n";
}

export function text(status: number, message: string, headers: Record<string, string>): Outcome {
  return { status, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }, body: Buffer.from(message) };
}

/** Builds the answer of a handler's result; shared bodies are rendered through `rendered` once. */
export function render(r: HttpResult, pretty: boolean, base: Record<string, string>, rendered?: RenderedBodies): Outcome {
  const headers: Record<string, string> = { ...base, ...r.headers };
  if (r.meta) {
    headers['X-Consul-Index'] = String(r.meta.index);
    headers['X-Consul-KnownLeader'] = String(r.meta.knownLeader);
    headers['X-Consul-LastContact'] = String(Math.round(r.meta.lastContact));
    headers['X-Consul-Effective-Consistency'] = r.meta.consistency;
    if (r.meta.filteredByACLs) headers['X-Consul-Results-Filtered-By-ACLs'] = 'true';
  }
  if (r.stream) {
    headers['Content-Type'] = r.contentType ?? 'text/plain; charset=utf-8';
    return { status: r.status ?? 200, headers, body: Buffer.alloc(0), stream: r.stream };
  }
  if (r.raw !== undefined) {
    headers['Content-Type'] = r.contentType ?? 'text/plain';
    return { status: r.status ?? 200, headers, body: Buffer.from(r.raw) };
  }
  if (r.json !== undefined) {
    headers['Content-Type'] = r.contentType ?? 'application/json';
    return { status: r.status ?? 200, headers, body: pretty ? renderJson(r.json.value(), true) : r.json.text() };
  }
  if (r.body === undefined) return { status: r.status ?? 200, headers, body: Buffer.alloc(0) };
  headers['Content-Type'] = r.contentType ?? 'application/json';
  const json = rendered && r.shared && typeof r.body === 'object' && r.body !== null
    ? rendered.json(r.body, pretty) : renderJson(r.body, pretty);
  return { status: r.status ?? 200, headers, body: json };
}

export function readBody(req: Readable & { headers: http.IncomingHttpHeaders }, limit: number, msg?: (size: number) => string): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? -1);
  if (declared > limit) {
    req.resume();
    return Promise.reject(new TooLargeError(msg ? msg(declared) : `Request body too large, max size: ${limit} bytes`));
  }
  if (req instanceof CapturingMessage) {
    let sink!: BodySink;
    const read = new Promise<Buffer>((resolve, reject) => { sink = { body: resolve, failed: reject }; });
    const tooLarge = (size: number): void => sink.failed(new TooLargeError(msg ? msg(size) : `Request body too large, max size: ${limit} bytes`));
    if (req.capture(limit, sink, tooLarge)) return read;
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        // Drain the rest so that the 413 can still be written on this connection.
        req.removeAllListeners('data');
        req.resume();
        reject(new TooLargeError(msg ? msg(size) : `Request body too large, max size: ${limit} bytes`));
      } else chunks.push(c);
    });
    // A small body arrives in one chunk: no copy.
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
