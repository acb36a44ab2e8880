// One audit file sink, as Consul's audit log writes through hashicorp/eventlogger's FileSink: one
// JSON line per event; with rotation on (rotate_bytes or rotate_duration) every file is named
// <name>-<unix nanoseconds><ext> from its creation and a new one is started once the current one
// is too big or too old, keeping the newest rotate_max_files; without it, the path itself. The
// directory is created 0700 and files get the sink's mode.
//
// Writes are asynchronous and ordered: write() only queues the line, and one fs.write at a time
// appends everything queued meanwhile, so the event loop never waits on the disk per request (a
// slow or stalled disk would otherwise stall every request). Delivery is best-effort, as the only
// guarantee Consul offers: a failed write is reported and its lines dropped, and past
// MAX_PENDING_BYTES of lines waiting for a stalled disk new lines are dropped (and reported).
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock.ts';
import type { AuditSinkSettings } from './audit-config.ts';

/** The paths written through the process's own streams (in order with its logs, whatever the stream is), or not at all. */
const SPECIAL: Record<string, (() => NodeJS.WritableStream) | null> = { '/dev/stdout': () => process.stdout, '/dev/stderr': () => process.stderr, '/dev/null': null };

/** Bytes of lines that may wait for the disk before new ones are dropped. */
export const MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** A file sink of the audit log. */
export class AuditFileSink {
  readonly #s: AuditSinkSettings;
  readonly #clock: Clock;
  readonly #onError: (err: unknown) => void;
  readonly #dir: string;
  readonly #base: string;
  readonly #ext: string;
  #fd: number | null = null;
  #created = 0;
  #written = 0;
  #lastNs = 0n;
  /** Lines waiting for the write in flight to end. */
  #pending: string[] = [];
  #pendingBytes = 0;
  /** The write in flight (and the ones it chains), or null when idle. */
  #flushing: Promise<void> | null = null;
  /** Events dropped in the current spell of a full queue. */
  #dropped = 0;
  #failing = false;

  /** `onError` hears the first failed write of each spell of failures, and the start and the count of each spell of dropped lines. */
  constructor(settings: AuditSinkSettings, clock: Clock, onError: (err: unknown) => void = () => {}) {
    this.#s = settings;
    this.#clock = clock;
    this.#onError = onError;
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

  /** Queues one line; it is appended (after a rotation when the file is too big or too old) soon after. */
  write(line: string): void {
    if (this.#pendingBytes + line.length > MAX_PENDING_BYTES) {
      if (this.#dropped === 0) this.#onError(new Error(`audit sink ${JSON.stringify(this.#s.name)}: over ${MAX_PENDING_BYTES} bytes of events wait for the disk; dropping events`));
      this.#dropped++;
      return;
    }
    if (this.#dropped > 0) {
      this.#onError(new Error(`audit sink ${JSON.stringify(this.#s.name)}: ${this.#dropped} events were dropped while the disk was behind`));
      this.#dropped = 0;
    }
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    this.#flushing ??= this.#drain();
  }

  /** Resolves once every line queued so far was written (or dropped). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /** Writes what is queued, then closes the current file. */
  async close(): Promise<void> {
    await this.flush();
    if (this.#fd !== null) fs.closeSync(this.#fd);
    this.#fd = null;
  }

  /** Writes queued lines until none are left; each batch is what queued while the last was written. */
  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const lines = this.#pending;
        this.#pending = [];
        this.#pendingBytes = 0;
        try {
          await this.#writeLines(lines);
          this.#failing = false;
        } catch (err) {
          // Reported once per spell of failures (a full disk fails every write).
          if (!this.#failing) this.#onError(err);
          this.#failing = true;
        }
      }
    } finally {
      this.#flushing = null;
    }
  }

  async #writeLines(lines: string[]): Promise<void> {
    if (this.#s.path in SPECIAL) {
      const stream = SPECIAL[this.#s.path]?.();
      if (stream) await new Promise<void>((resolve, reject) => stream.write(lines.join(''), (err) => (err ? reject(err) : resolve())));
      return;
    }
    // Lines go out in runs that each fit the current file: a rotation can fall between two lines.
    for (let i = 0; i < lines.length; ) {
      if (this.#fd === null) this.#open();
      else this.#rotateIfDue();
      let bytes = Buffer.byteLength(lines[i]);
      let j = i + 1;
      for (const max = this.#s.rotateBytes; j < lines.length && !(max > 0 && this.#written + bytes >= max); j++) bytes += Buffer.byteLength(lines[j]);
      const chunk = Buffer.from(lines.slice(i, j).join(''));
      i = j;
      await writeAll(this.#fd!, chunk);
      this.#written += chunk.length;
    }
  }

  #rotating(): boolean {
    return this.#s.rotateBytes > 0 || this.#s.rotateDurationMs > 0;
  }

  #name = '';

  #fileName(): string {
    return path.join(this.#dir, this.#name);
  }

  // Opening, rotating and pruning are synchronous: they happen once per file, not per request.
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
    fs.closeSync(this.#fd!);
    this.#fd = null;
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

/** Appends all of `buf` at the file's end (the fd is opened 'a'), however many writes it takes. */
async function writeAll(fd: number, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) {
    off += await new Promise<number>((resolve, reject) => fs.write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
