// auto_reload_config (Consul's Agent.AutoReloadConfig): when a watched config file or directory, or
// a TLS key or certificate file, changes, the configuration is read again and applied as
// `consul reload` applies it. A configuration that does not load is logged; the running one stays.
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { TlsProtocolConfig } from './config/tls.ts';
import { ConfigFileWatcher } from './config-watcher.ts';

/** What auto-reload needs from its agent. */
export interface AutoReloadDeps {
  clock: Clock;
  logger: Logger;
  /** Reads the configuration again (the CLI's flags and files). */
  read(): Promise<RuntimeConfig>;
  /** Applies a configuration as a reload does. */
  apply(next: RuntimeConfig): Promise<void>;
  coalesceMs?: number;
  reconcileMs?: number;
}

const PROTOCOLS = ['internalRpc', 'grpc', 'https'] as const;

/** Consul's warning for changes auto-reload leaves to a manual reload. */
export const STATIC_CHANGE_WARNING = 'Changes to your configuration were detected that for security reasons cannot be automatically '
  + "applied by 'auto_reload_config'. Manually reload your configuration (e.g. with 'consul reload') to apply these changes.";

/** The paths auto_reload_config watches: the -config-file / -config-dir paths, then each TLS key and certificate file. */
export function watchedFiles(c: RuntimeConfig): string[] {
  const out = [...(c.configPaths ?? c.sources)];
  for (const p of PROTOCOLS) {
    const t = c.tls?.[p];
    if (t?.keyFile) out.push(t.keyFile);
    if (t?.certFile) out.push(t.certFile);
  }
  return [...new Set(out)];
}

/** A protocol's TLS settings that changed, apart from its key pair (Consul's revertStaticConfig test). */
export function changedTlsFields(prev: TlsProtocolConfig, next: TlsProtocolConfig): string[] {
  const keys = Object.keys(prev) as (keyof TlsProtocolConfig)[];
  return keys.filter((k) => k !== 'certFile' && k !== 'keyFile' && JSON.stringify(prev[k]) !== JSON.stringify(next[k]));
}

/** The running auto-reloader of one agent. */
export class AutoReload {
  readonly #deps: AutoReloadDeps;
  readonly #watcher: ConfigFileWatcher;
  #current: RuntimeConfig;
  // Reloads run one after another: a change during a reload is applied after it, by one more
  // reload however many intervals it spans (it reads every file as it is then), as Consul's
  // watcher holds events while the agent reloads. None starts once stopped.
  #queue: Promise<void> = Promise.resolve();
  /** Change events a queued, not yet started reload covers (0: none queued). */
  #waiting = 0;
  #stopped = false;

  constructor(config: RuntimeConfig, deps: AutoReloadDeps) {
    this.#deps = deps;
    this.#current = config;
    this.#watcher = new ConfigFileWatcher(watchedFiles(config), {
      clock: deps.clock, logger: deps.logger, coalesceMs: deps.coalesceMs, reconcileMs: deps.reconcileMs,
      onChange: (files) => this.#request(files.length),
    });
  }

  /** The watched paths. */
  paths(): string[] {
    return this.#watcher.paths();
  }

  /** Starts watching. */
  start(): void {
    this.#deps.logger.debug({}, 'starting file watcher');
    this.#watcher.start();
  }

  /** Stops watching; a reload under way finishes, a queued one is dropped. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher.stop();
    return this.#queue;
  }

  #request(events: number): void {
    if (this.#stopped) return;
    if (this.#waiting > 0) {
      this.#waiting += events;
      return;
    }
    this.#waiting = events;
    this.#queue = this.#queue.then(() => {
      const n = this.#waiting;
      this.#waiting = 0;
      return this.#stopped ? undefined : this.#reload(n);
    });
  }

  async #reload(events: number): Promise<void> {
    const log = this.#deps.logger;
    log.debug({ 'num-events': events }, 'auto-reload config triggered');
    try {
      const next = await this.#deps.read();
      this.#follow(next);
      await this.#deps.apply(next);
      this.#current = next;
    } catch (err) {
      log.error({ error: (err as Error).message }, 'error loading config');
    }
  }

  // The key pairs the new configuration names are the ones watched from now on; other TLS and
  // gossip-verification changes are warned about, as Consul's auto-reload does.
  #follow(next: RuntimeConfig): void {
    const log = this.#deps.logger.child({ '@module': 'agent' });
    for (const p of PROTOCOLS) {
      const prev = this.#current.tls?.[p];
      const now = next.tls?.[p];
      if (!prev || !now) continue;
      if (prev.keyFile !== now.keyFile) this.#watcher.replace(prev.keyFile, now.keyFile);
      if (prev.certFile !== now.certFile) this.#watcher.replace(prev.certFile, now.certFile);
      const changed = changedTlsFields(prev, now);
      if (changed.length) log.warn({ protocol: p, 'modified fields': changed }, STATIC_CHANGE_WARNING);
    }
    const g = this.#current.gossip;
    const h = next.gossip;
    if (!g || !h) return;
    const gossip = [
      ...(g.encryptVerifyIncoming !== h.encryptVerifyIncoming ? ['encrypt_verify_incoming'] : []),
      ...(g.encryptVerifyOutgoing !== h.encryptVerifyOutgoing ? ['encrypt_verify_outgoing'] : []),
    ];
    if (gossip.length) log.warn({ 'modified fields': gossip }, STATIC_CHANGE_WARNING);
  }
}

/** Starts auto_reload_config when it is on (and there is something to watch); undefined otherwise. */
export function startAutoReload(config: RuntimeConfig, deps: AutoReloadDeps): AutoReload | undefined {
  if (config.autoReloadConfig !== true || watchedFiles(config).length === 0) return undefined;
  const r = new AutoReload(config, deps);
  r.start();
  return r;
}
