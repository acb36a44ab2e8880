// The agent's log file (Consul's logging.LogFile for log_file and log_rotate_*): log lines are
// also written to <dir>/<name>, truncated at start; when it has grown past rotate_bytes or is
// older than rotate_duration it is renamed to <name>-<unix nanoseconds><ext> and a new one opened,
// keeping the newest rotate_max_files renamed files (0: all, -1: none).
import fs from 'node:fs';
import path from 'node:path';

/** log_file and the log_rotate_* settings. */
export interface LogFileOptions {
  /** log_file; a path ending in a separator gets Consul's default name, consul.log. */
  path: string;
  /** log_rotate_duration in ms; 0 is Consul's default, 24h. */
  rotateDurationMs: number;
  /** log_rotate_bytes; 0: no size limit. */
  rotateBytes: number;
  /** log_rotate_max_files. */
  rotateMaxFiles: number;
  /** Wall clock in ms (tests inject one). */
  now?: () => number;
}

const DAY_MS = 24 * 3_600_000;
/** Lines waiting for the disk past this many bytes are dropped (counted, then reported in the file). */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

/** A write on its way to the disk: its bytes at their position, so a synchronous rewrite at exit is harmless. */
interface InFlight { fd: number; buf: Buffer; pos: number }

/**
 * A rotating log file. write() only queues the line: the lines of one turn of the event loop go to
 * the disk in one positional write off the loop (a synchronous write per line stalled every request
 * behind the disk under load). close() and process exit write what is still queued synchronously,
 * so the last lines are never lost.
 */
export class LogFile {
  readonly #dir: string;
  readonly #name: string;
  readonly #o: Required<LogFileOptions>;
  #fd = -1;
  #createdAt = 0;
  #written = 0;
  #seq = 0n;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #dropped = 0;
  #inFlight: InFlight | undefined;
  #draining: Promise<void> | undefined;
  #closed = false;
  readonly #onExit = (): void => this.#flushSync();

  /** Opens (truncates) the file; throws `Failed to setup logging: …` as Consul's agent does. */
  constructor(o: LogFileOptions) {
    this.#o = { now: Date.now, ...o, rotateDurationMs: o.rotateDurationMs || DAY_MS };
    const sep = o.path.endsWith('/') || o.path.endsWith(path.sep);
    this.#dir = sep ? o.path : path.dirname(o.path);
    this.#name = sep ? 'consul.log' : path.basename(o.path);
    try {
      this.#openNew();
    } catch (err) {
      // Go's *PathError text: `open <path>: <reason>`.
      const reason = /^[A-Z]+: ([^,]+),/.exec((err as Error).message)?.[1] ?? (err as Error).message;
      throw new Error(`Failed to setup logging: open ${path.join(this.#dir, this.#name)}: ${reason}`);
    }
    process.on('exit', this.#onExit);
  }

  /** Queues one log line; it reaches the file (rotating first when due) shortly, or at close or exit. */
  write(line: string): void {
    if (this.#closed || this.#fd < 0) return;
    if (this.#pendingBytes >= MAX_PENDING_BYTES) {
      this.#dropped++;
      return;
    }
    if (this.#dropped > 0) this.#queue(`[WARN]  ${this.#dropped} log lines dropped: the log file could not keep up\n`);
    this.#queue(line);
    this.#draining ??= this.#drain();
  }

  /** Resolves when every line queued so far is on the disk (tests). */
  async flushed(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Writes what is queued synchronously and closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#flushSync();
    this.#closed = true;
    process.off('exit', this.#onExit);
    // A write still in the thread pool owns the descriptor until it settles (#drain closes it then).
    if (!this.#inFlight && this.#fd >= 0) fs.closeSync(this.#fd);
    if (!this.#inFlight) this.#fd = -1;
  }

  #queue(line: string): void {
    const buf = Buffer.from(line);
    this.#pending.push(buf);
    this.#pendingBytes += buf.length;
    this.#dropped = 0;
  }

  /** Writes the queue off the event loop, one batch at a time, until it is empty. */
  async #drain(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.#pending.length > 0 && !this.#closed && this.#fd >= 0) {
        const batch = this.#nextBatch();
        if (!batch) break;
        this.#inFlight = batch;
        try {
          await writeAllAt(batch);
        } catch {
          // A full or vanished disk must not take the agent down with it; stdout still has the lines.
        }
        this.#inFlight = undefined;
      }
    } finally {
      this.#inFlight = undefined;
      this.#draining = undefined;
      if (this.#closed && this.#fd >= 0) {
        fs.close(this.#fd, () => {});
        this.#fd = -1;
      }
    }
  }

  /**
   * Takes queued lines up to where the file is due for rotation (rotating first when it already is),
   * as Consul checks before every line; undefined when rotation failed.
   */
  #nextBatch(): InFlight | undefined {
    try {
      this.#rotateIfDue();
    } catch {
      if (this.#fd < 0) return undefined;
    }
    const lines: Buffer[] = [];
    let size = 0;
    do {
      const line = this.#pending.shift()!;
      lines.push(line);
      size += line.length;
    } while (this.#pending.length > 0 && !(this.#o.rotateBytes > 0 && this.#written + size >= this.#o.rotateBytes));
    this.#pendingBytes -= size;
    const batch = { fd: this.#fd, buf: lines.length === 1 ? lines[0] : Buffer.concat(lines, size), pos: this.#written };
    this.#written += size;
    return batch;
  }

  /** Everything still queued, written now: the write in flight again at its position, then the queue line by line. */
  #flushSync(): void {
    try {
      const f = this.#inFlight;
      if (f) fs.writeSync(f.fd, f.buf, 0, f.buf.length, f.pos);
      while (this.#pending.length > 0 && this.#fd >= 0) {
        // The descriptor of a write in flight stays open: no rotation until it settles.
        if (!f) this.#rotateIfDue();
        const line = this.#pending.shift()!;
        this.#pendingBytes -= line.length;
        fs.writeSync(this.#fd, line, 0, line.length, this.#written);
        this.#written += line.length;
      }
    } catch {
      // As in #drain: the disk's trouble is not the agent's.
    }
  }

  #openNew(): void {
    this.#fd = fs.openSync(path.join(this.#dir, this.#name), 'w', 0o640);
    this.#createdAt = this.#o.now();
    this.#written = 0;
  }

  #rotateIfDue(): void {
    const full = this.#o.rotateBytes > 0 && this.#written >= this.#o.rotateBytes;
    if (!full && this.#o.now() - this.#createdAt < this.#o.rotateDurationMs) return;
    fs.closeSync(this.#fd);
    this.#fd = -1;
    fs.renameSync(path.join(this.#dir, this.#name), path.join(this.#dir, this.#rotatedName()));
    this.#prune();
    this.#openNew();
  }

  /** <stem>-<unix ns><ext>; the ns part counts up within a millisecond so two rotations never collide. */
  #rotatedName(): string {
    const ns = BigInt(this.#o.now()) * 1_000_000n;
    this.#seq = ns > this.#seq ? ns : this.#seq + 1n;
    const { stem, ext } = this.#parts();
    return `${stem}-${this.#seq}${ext}`;
  }

  #parts(): { stem: string; ext: string } {
    const ext = path.extname(this.#name);
    return { stem: ext ? this.#name.slice(0, -ext.length) : this.#name, ext: ext || '.log' };
  }

  #prune(): void {
    const max = this.#o.rotateMaxFiles;
    if (max === 0) return;
    const { stem, ext } = this.#parts();
    const rotated = fs.readdirSync(this.#dir)
      .filter((f) => f.startsWith(`${stem}-`) && f.endsWith(ext) && f.length > stem.length + 1 + ext.length)
      .sort();
    const drop = max < 0 ? rotated : rotated.slice(0, Math.max(0, rotated.length - max));
    for (const f of drop) fs.rmSync(path.join(this.#dir, f), { force: true });
  }
}

/** pwrite of a whole buffer, continuing after short writes. */
async function writeAllAt(w: InFlight): Promise<void> {
  let off = 0;
  while (off < w.buf.length) {
    const n = await new Promise<number>((resolve, reject) => {
      fs.write(w.fd, w.buf, off, w.buf.length - off, w.pos + off, (err, written) => (err ? reject(err) : resolve(written)));
    });
    off += n;
  }
}
