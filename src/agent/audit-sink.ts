// One audit file sink, as Consul's audit log writes through hashicorp/eventlogger's FileSink: one
// JSON line per event; with rotation on (rotate_bytes or rotate_duration) every file is named
// <name>-<unix nanoseconds><ext> from its creation and a new one is started once the current one
// is too big or too old, keeping the newest rotate_max_files; without it, the path itself. The
// directory is created 0700 and files get the sink's mode. Writes are synchronous and ordered.
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock.ts';
import type { AuditSinkSettings } from './audit-config.ts';

const SPECIAL: Record<string, number | null> = { '/dev/stdout': 1, '/dev/stderr': 2, '/dev/null': null };

/** A file sink of the audit log. */
export class AuditFileSink {
  readonly #s: AuditSinkSettings;
  readonly #clock: Clock;
  readonly #dir: string;
  readonly #base: string;
  readonly #ext: string;
  #fd: number | null = null;
  #created = 0;
  #written = 0;
  #lastNs = 0n;

  constructor(settings: AuditSinkSettings, clock: Clock) {
    this.#s = settings;
    this.#clock = clock;
    this.#dir = path.dirname(settings.path);
    const file = path.basename(settings.path);
    // eventlogger names rotated files with the file's extension, ".log" when it has none.
    this.#ext = path.extname(file) || '.log';
    this.#base = path.extname(file) ? file.slice(0, -this.#ext.length) : file;
  }

  /** The file currently written (for tests and the agent's log). */
  get currentFile(): string | null {
    return this.#fd === null ? null : this.#fileName();
  }

  /** Appends one line; rotates first when the file is too big or too old. */
  write(line: string): void {
    if (this.#s.path in SPECIAL) {
      const fd = SPECIAL[this.#s.path];
      if (fd !== null) fs.writeSync(fd, line);
      return;
    }
    if (this.#fd === null) this.#open();
    else this.#rotateIfDue();
    this.#written += fs.writeSync(this.#fd!, line);
  }

  /** Closes the current file. */
  close(): void {
    if (this.#fd !== null) fs.closeSync(this.#fd);
    this.#fd = null;
  }

  #rotating(): boolean {
    return this.#s.rotateBytes > 0 || this.#s.rotateDurationMs > 0;
  }

  #name = '';

  #fileName(): string {
    return path.join(this.#dir, this.#name);
  }

  #open(): void {
    fs.mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const now = this.#clock.now();
    this.#name = this.#rotating() ? `${this.#base}-${this.#nanos(now)}${this.#ext}` : path.basename(this.#s.path);
    const file = this.#fileName();
    this.#fd = fs.openSync(file, 'a', this.#s.mode);
    // An existing file gets the sink's mode too.
    fs.fchmodSync(this.#fd, this.#s.mode);
    this.#created = now;
    this.#written = 0;
  }

  #rotateIfDue(): void {
    const { rotateBytes, rotateDurationMs } = this.#s;
    const big = rotateBytes > 0 && this.#written >= rotateBytes;
    const old = rotateDurationMs > 0 && this.#clock.now() - this.#created > rotateDurationMs;
    if (!big && !old) return;
    this.close();
    this.#prune();
    this.#open();
  }

  /** Removes the oldest files past rotate_max_files (before the next one is opened, as eventlogger does). */
  #prune(): void {
    const max = this.#s.rotateMaxFiles;
    if (max <= 0) return;
    const re = new RegExp(`^${escapeRe(this.#base)}-.*${escapeRe(this.#ext)}$`);
    const files = fs.readdirSync(this.#dir).filter((f) => re.test(f)).sort();
    for (const f of files.slice(0, Math.max(0, files.length - max))) fs.rmSync(path.join(this.#dir, f), { force: true });
  }

  /** Unix nanoseconds for a file name, strictly increasing so two files never share one. */
  #nanos(ms: number): string {
    let ns = BigInt(Math.floor(ms)) * 1_000_000n;
    if (ns <= this.#lastNs) ns = this.#lastNs + 1n;
    this.#lastNs = ns;
    return ns.toString();
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
