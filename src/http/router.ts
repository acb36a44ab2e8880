// Route registration and matching: exact paths and `*` tails, one handler per method and
// pattern (registering twice throws), 405 with the allowed methods when only the method misses.
import { MethodNotAllowedError } from '../errors.ts';
import type { HttpRequest } from './request.ts';
import type { QueryMeta } from '../endpoint/index.ts';

/** What a handler returns; one wrapper turns it into status, headers and body. */
export interface HttpResult {
  status?: number;
  /** JSON-serialised unless `raw` is given. */
  body?: unknown;
  raw?: Buffer | string;
  /**
   * A streamed (chunked) answer: written until it resolves or the client leaves. `write` answers
   * false once the connection's buffer is full; `drained` then resolves when it has emptied.
   */
  stream?: (write: (chunk: string | Buffer) => unknown, signal: AbortSignal, drained?: () => Promise<void>) => Promise<void>;
  contentType?: string;
  headers?: Record<string, string>;
  meta?: QueryMeta;
  /** `body` is a shared value other answers may carry too (never mutated): its JSON is rendered once. */
  shared?: boolean;
  /** The body as JSON its handler writes directly, instead of `body` (compact answers then build no objects). */
  json?: DirectJson;
}

/** A JSON body written by its handler: `text()` is exactly `JSON.stringify(value())`; ?pretty indents `value()`. */
export interface DirectJson {
  text(): string;
  value(): unknown;
}

/** A route handler. */
export type Handler = (req: HttpRequest) => Promise<HttpResult>;

/**
 * A handler whose synchronous throw (a bad parameter) comes back as a rejection, as from an async
 * function, without being one: a held blocking query then keeps no suspended async frame.
 */
export function settled(f: Handler): Handler {
  return (req) => {
    try {
      return f(req);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

interface Route {
  pattern: string;
  prefix: boolean;
  methods: Map<string, Handler>;
}

/**
 * The path up to and including its third `/` (`/v1/kv/` of `/v1/kv/a/b`), or null with fewer:
 * a prefix pattern that has a head can only match paths with the same head.
 */
function headOf(path: string): string | null {
  let i = -1;
  for (let n = 0; n < 3; n++) {
    i = path.indexOf('/', i + 1);
    if (i < 0) return null;
  }
  return path.slice(0, i + 1);
}

function longestFirst(list: Route[]): void {
  list.sort((a, b) => b.pattern.length - a.pattern.length);
}

/** The route table. */
export class Router {
  #exact = new Map<string, Route>();
  #prefixes: Route[] = [];
  /** Prefix routes by head, longest first; those without a head (shorter than any headed match) apart. */
  #byHead = new Map<string, Route[]>();
  #headless: Route[] = [];
  #prefixByPattern = new Map<string, Route>();
  /** Whether prefix routes were added since the lists were last ordered (sorted once, on first use). */
  #unsorted = false;

  /** Registers `handler` for `method` on `pattern` (`/v1/kv/*` matches the tail). */
  route(method: string, pattern: string, handler: Handler): this {
    const prefix = pattern.endsWith('*');
    const key = prefix ? pattern.slice(0, -1) : pattern;
    let r = prefix ? this.#prefixByPattern.get(key) : this.#exact.get(key);
    if (!r) {
      r = { pattern: key, prefix, methods: new Map() };
      if (prefix) {
        this.#prefixes.push(r);
        this.#prefixByPattern.set(key, r);
        const head = headOf(key);
        let list = head === null ? this.#headless : this.#byHead.get(head);
        if (!list) this.#byHead.set(head!, list = []);
        list.push(r);
        this.#unsorted = true;
      } else this.#exact.set(key, r);
    }
    if (r.methods.has(method)) throw new Error(`route registered twice: ${method} ${pattern}`);
    r.methods.set(method, handler);
    return this;
  }

  /** Every registered method and pattern (prefix patterns end in `*`), in registration order per pattern. */
  list(): { method: string; pattern: string }[] {
    this.#sort();
    const out: { method: string; pattern: string }[] = [];
    for (const r of [...this.#exact.values(), ...this.#prefixes]) {
      for (const method of r.methods.keys()) out.push({ method, pattern: r.prefix ? `${r.pattern}*` : r.pattern });
    }
    return out;
  }

  /** Finds the handler and path tail; null when no pattern matches; throws 405 on a method miss. */
  match(method: string, path: string): { handler: Handler; rest: string; pattern: string } | null {
    const r = this.#exact.get(path) ?? this.#prefixMatch(path);
    if (!r) return null;
    const handler = r.methods.get(method);
    // Consul lists OPTIONS first in Allow: every registered endpoint answers it.
    if (!handler) throw new MethodNotAllowedError(['OPTIONS', ...r.methods.keys()]);
    return { handler, rest: r.prefix ? path.slice(r.pattern.length) : '', pattern: r.pattern };
  }

  /** The longest prefix route of `path`: among those with its head, then the headless ones. */
  #prefixMatch(path: string): Route | undefined {
    if (this.#unsorted) this.#sort();
    const head = headOf(path);
    const same = head === null ? undefined : this.#byHead.get(head);
    if (same) for (const r of same) if (path.startsWith(r.pattern)) return r;
    for (const r of this.#headless) if (path.startsWith(r.pattern)) return r;
    return undefined;
  }

  // Stable sorts of the lists in registration order: the order sorting after every insertion gave,
  // without re-sorting every list on each of the ≈100 prefix registrations at agent start.
  #sort(): void {
    if (!this.#unsorted) return;
    longestFirst(this.#prefixes);
    longestFirst(this.#headless);
    for (const list of this.#byHead.values()) longestFirst(list);
    this.#unsorted = false;
  }
}
