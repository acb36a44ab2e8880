// A dev agent for HTTP API tests: requests answering status, X-Consul-Index, JSON and text, and
// the agent started and stopped around the enclosing describe (or file).
import { after, before } from 'node:test';
import { startDevAgent, type DevAgent } from './agent.ts';

/** One answer from an agent's HTTP API: status, X-Consul-Index, the body as JSON (undefined when it is not JSON) and as text. */
export interface ApiAnswer { status: number; index: number; json: any; text: string }

/** Requests to the agent at the base URL `base()` (read per call, so it may be set in a before hook); a body is sent as JSON. */
export function apiCaller(base: () => string): (method: string, path: string, body?: unknown) => Promise<ApiAnswer> {
  return async (method, path, body) => {
    const res = await fetch(`${base()}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, index: Number(res.headers.get('x-consul-index')), json, text };
  };
}

/** A dev agent, its base URL and requests to it (valid once `before` ran). */
export interface ApiAgent {
  readonly dev: DevAgent;
  /** `http://127.0.0.1:PORT` */
  readonly base: string;
  call(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
}

/**
 * Registers before/after hooks in the enclosing describe (or file) that start a dev agent (then run
 * `setup`, such as seeding the catalog) and stop it again. Use the fields inside `setup` and tests.
 */
export function apiAgent(opts: Parameters<typeof startDevAgent>[0] = {}, setup?: (a: ApiAgent) => Promise<void>): ApiAgent {
  let dev: DevAgent | undefined;
  before(async () => {
    dev = await startDevAgent(opts);
    await setup?.(h);
  });
  after(async () => {
    await dev?.stop();
  });
  const h: ApiAgent = {
    get dev() {
      if (dev === undefined) throw new Error('apiAgent: the dev agent is not started yet (use it inside hooks and tests)');
      return dev;
    },
    get base() { return `http://${h.dev.httpAddr}`; },
    call: apiCaller(() => h.base),
  };
  return h;
}
