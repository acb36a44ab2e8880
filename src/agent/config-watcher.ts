// auto_reload_config's file watcher (Consul's FileWatcher behind its RateLimitedFileWatcher): the
// config files and directories and the TLS key pairs are watched; the changes of one coalescing
// interval are handed over together, once. A missed event is caught by a periodic stat of each path.
import { watch as fsWatch, statSync, type FSWatcher } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';

/** Consul's AutoReloadConfigCoalesceInterval. */
export const COALESCE_MS = 1000;
/** How often every path is stat'ed for a change no event reported (Consul's reconcile, 200 ms). */
export const RECONCILE_MS = 200;

/** What the watcher needs. */
export interface ConfigWatcherDeps {
  clock: Clock;
  logger: Logger;
  /** The changed paths of one coalescing interval. */
  onChange(paths: string[]): void;
  coalesceMs?: number;
  reconcileMs?: number;
}

interface Watched {
  /** A directory: any change to an entry counts (a config dir gains, loses or edits a file). */
  dir: boolean;
  /** Size, inode and modification time; '' while the path cannot be stat'ed. */
  id: string;
}

// The identity Consul compares (its getFileId is the modification time), plus inode and size so an
// editor's replace within the same clock tick still counts. stat follows symbolic links.
function fileId(path: string): string {
  const s = statSync(path, { bigint: true });
  return `${s.mtimeNs}:${s.ino}:${s.size}`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Watches a set of files and directories; start() begins, stop() ends everything. */
export class ConfigFileWatcher {
  readonly #deps: ConfigWatcherDeps;
  readonly #log: Logger;
  readonly #paths = new Map<string, Watched>();
  /** One fs.watch per directory: a watched directory itself, or the directory holding a watched file. */
  readonly #dirWatchers = new Map<string, FSWatcher>();
  readonly #pending = new Set<string>();
  #coalesce: TimerHandle | undefined;
  #reconcile: TimerHandle | undefined;
  #running = false;

  constructor(paths: string[], deps: ConfigWatcherDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ '@module': 'agent.file-watcher' });
    for (const p of paths) this.#add(p);
  }

  /** The watched paths (absolute). */
  paths(): string[] {
    return [...this.#paths.keys()];
  }

  /** Starts watching. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const p of this.#paths.keys()) this.#watchDirOf(p);
    this.#armReconcile();
  }

  /** Watches `next` instead of `prev` (a TLS file renamed in the configuration). */
  replace(prev: string, next: string): void {
    const from = resolve(prev);
    if (from === resolve(next)) return;
    this.#paths.delete(from);
    if (next) this.#add(next);
    if (this.#running) this.#rewatch();
  }

  /** Stops every watch and timer; pending changes are dropped. */
  stop(): void {
    this.#running = false;
    this.#coalesce?.cancel();
    this.#reconcile?.cancel();
    this.#coalesce = this.#reconcile = undefined;
    this.#pending.clear();
    for (const w of this.#dirWatchers.values()) w.close();
    this.#dirWatchers.clear();
  }

  #add(path: string): void {
    const full = resolve(path);
    let dir = false;
    let id = '';
    try {
      id = fileId(full);
      dir = isDirectory(full);
    } catch (err) {
      this.#log.error({ file: full, error: (err as Error).message }, 'failed to get file id');
    }
    this.#paths.set(full, { dir, id });
  }

  // The directory whose entries carry this path's events: the path itself when it is a directory.
  #dirOf(path: string): string {
    return this.#paths.get(path)?.dir ? path : dirname(path);
  }

  #watchDirOf(path: string): void {
    const dir = this.#dirOf(path);
    if (this.#dirWatchers.has(dir)) return;
    try {
      const w = fsWatch(dir, { persistent: false }, (_type, name) => this.#event(dir, name === null ? '' : String(name)));
      w.on('error', (err) => {
        this.#log.error({ file: dir, error: err.message }, 'watcher error');
        w.close();
        this.#dirWatchers.delete(dir);
      });
      this.#dirWatchers.set(dir, w);
    } catch (err) {
      // The directory is missing for now: reconcile() tries again.
      this.#log.error({ file: dir, error: (err as Error).message }, 'failed to add file to watcher');
    }
  }

  #unwatchDirOf(path: string): void {
    const dir = this.#dirOf(path);
    this.#dirWatchers.get(dir)?.close();
    this.#dirWatchers.delete(dir);
  }

  // Closes the watches of directories no watched path needs any more and opens the missing ones.
  #rewatch(): void {
    const needed = new Set([...this.#paths.keys()].map((p) => this.#dirOf(p)));
    for (const [dir, w] of this.#dirWatchers) {
      if (needed.has(dir)) continue;
      w.close();
      this.#dirWatchers.delete(dir);
    }
    for (const p of this.#paths.keys()) this.#watchDirOf(p);
  }

  #event(dir: string, name: string): void {
    const file = name ? join(dir, name) : dir;
    // A change inside a watched directory, or to a watched file (by name: editors replace files).
    const watched = this.#paths.get(dir)?.dir ? dir : this.#paths.has(file) ? file : undefined;
    if (watched === undefined) return;
    this.#log.trace({ file }, 'received watcher event');
    this.#changed(file);
  }

  #changed(file: string): void {
    if (!this.#running) return;
    this.#pending.add(file);
    // Consul's coalescing: the first change opens the interval, its end hands over all of them.
    this.#coalesce ??= this.#deps.clock.setTimer(this.#deps.coalesceMs ?? COALESCE_MS, () => {
      this.#coalesce = undefined;
      const files = [...this.#pending];
      this.#pending.clear();
      if (this.#running && files.length) this.#deps.onChange(files);
    });
  }

  #armReconcile(): void {
    this.#reconcile = this.#deps.clock.setTimer(this.#deps.reconcileMs ?? RECONCILE_MS, () => {
      if (!this.#running) return;
      this.reconcile();
      this.#armReconcile();
    });
  }

  /** Stats every watched path: one whose identity changed (or that came back) counts as changed. */
  reconcile(): void {
    for (const [path, w] of this.#paths) {
      let id = '';
      try {
        id = fileId(path);
      } catch (err) {
        // Logged once when the path goes, not on every round.
        if (w.id !== '') this.#log.error({ file: path, error: (err as Error).message }, 'failed to get file id');
      }
      if (id === w.id) continue;
      if (w.id === '' && id !== '') w.dir = isDirectory(path);
      this.#log.debug({ filename: path, 'old id': w.id, 'new id': id }, 'reconcile file');
      w.id = id;
      if (id !== '') {
        // The directory may have been made again (its inode number can even be reused): a watch
        // opened before is on the old one and hears nothing more, so it is opened again (Consul
        // adds every path to its watcher again on each reconcile round).
        this.#unwatchDirOf(path);
        this.#watchDirOf(path);
        this.#changed(path);
      }
    }
  }
}
