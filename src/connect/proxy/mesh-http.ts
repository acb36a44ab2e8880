// The mesh config entry's HTTP settings as the public listener applies them (Consul sets them on
// the inbound HTTP connection manager: SanitizeXForwardedClientCert picks SANITIZE over
// APPEND_FORWARD, Incoming.RequestNormalization the path and header-name options), kept fresh by a
// blocking query on /v1/config/mesh/mesh so a change applies without a restart.
import type { ApiResponse, ConsulClient, QueryOptions } from '../../api/index.ts';
import type { Logger } from '../../log.ts';
import { blockingWatch, Readiness } from '../watch.ts';
import { DEFAULT_NORMALIZATION, type EscapedSlashesAction, type RequestNormalization, type UnderscoresAction } from './l7-normalize.ts';

/** What the public listener takes from the mesh entry. */
export interface MeshHttp {
  /** x-forwarded-client-cert is stripped and not added (Envoy's SANITIZE). */
  sanitizeXfcc: boolean;
  normalization: RequestNormalization;
}

/** Consul's behaviour without a mesh entry (or without its HTTP block). */
export const DEFAULT_MESH_HTTP: MeshHttp = { sanitizeXfcc: false, normalization: DEFAULT_NORMALIZATION };

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? v as Obj : {});

const ESCAPED: readonly EscapedSlashesAction[] = ['KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'];
const UNDERSCORES: readonly UnderscoresAction[] = ['ALLOW', 'REJECT_REQUEST', 'DROP_HEADER'];

/**
 * The settings of a mesh entry as read from the API (undefined: none written). Empty or unknown
 * enum values fall back to Envoy's defaults (IMPLEMENTATION_SPECIFIC_DEFAULT is KEEP_UNCHANGED).
 */
export function meshHttp(entry: unknown): MeshHttp {
  const http = obj(obj(entry).HTTP);
  const rn = obj(obj(http.Incoming).RequestNormalization);
  const escaped = String(rn.PathWithEscapedSlashesAction ?? '') as EscapedSlashesAction;
  const underscores = String(rn.HeadersWithUnderscoresAction ?? '') as UnderscoresAction;
  return {
    sanitizeXfcc: http.SanitizeXForwardedClientCert === true,
    normalization: {
      normalizePath: rn.InsecureDisablePathNormalization !== true,
      mergeSlashes: rn.MergeSlashes === true,
      escapedSlashes: ESCAPED.includes(escaped) ? escaped : 'KEEP_UNCHANGED',
      underscores: UNDERSCORES.includes(underscores) ? underscores : 'ALLOW',
    },
  };
}

/** The current mesh HTTP settings; start(), then read `current` once ready() resolves. */
export class MeshHttpWatch {
  #client: ConsulClient;
  #log: Logger;
  #abort = new AbortController();
  #ready = new Readiness();
  #current: MeshHttp = DEFAULT_MESH_HTTP;

  constructor(client: ConsulClient, log: Logger) {
    this.#client = client;
    this.#log = log;
  }

  /** The settings in force (Consul's defaults until the entry is read, and while it cannot be). */
  get current(): MeshHttp {
    return this.#current;
  }

  /** True once ready() has resolved. */
  get settled(): boolean {
    return this.#ready.settled;
  }

  /** Resolves once the entry has been read once (or failed to be). */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Starts the watch. */
  start(): void {
    const read = (options: QueryOptions): Promise<ApiResponse<unknown>> => this.#read(options);
    void blockingWatch('mesh config entry', read, (e) => { this.#current = meshHttp(e); this.#ready.mark(); }, this.#log, this.#abort.signal, {
      failed: () => this.#ready.mark(),
      fields: () => ({ sanitizeXfcc: this.#current.sanitizeXfcc, ...this.#current.normalization }),
    });
  }

  /** Stops the watch. */
  close(): void {
    this.#abort.abort();
    this.#ready.mark();
  }

  // A missing entry is a 404 that still carries the index to block on.
  async #read(options: QueryOptions): Promise<ApiResponse<unknown>> {
    const res = await this.#client.request({ method: 'GET', path: '/v1/config/mesh/mesh', accept: [404], options });
    return { data: res.status === 404 ? undefined : JSON.parse(res.body.toString('utf8')), meta: res.meta };
  }
}

/** Where the public listener reads the settings from. */
export type MeshHttpSource = Pick<MeshHttpWatch, 'current' | 'settled' | 'ready' | 'start' | 'close'>;

/** Settings that never change (a listener whose tests fix them). */
export function fixedMeshHttp(current: MeshHttp = DEFAULT_MESH_HTTP): MeshHttpSource {
  return { current, settled: true, ready: () => Promise.resolve(), start: () => undefined, close: () => undefined };
}
