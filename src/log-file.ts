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

/** A rotating log file; write() is synchronous so no line is lost at exit. */
export class LogFile {
  readonly #dir: string;
  readonly #name: string;
  readonly #o: Required<LogFileOptions>;
  #fd = -1;
  #createdAt = 0;
  #written = 0;
  #seq = 0n;

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
  }

  /** Writes one log line, rotating first when the file is due. */
  write(line: string): void {
    if (this.#fd < 0) return;
    try {
      this.#rotateIfDue();
      const buf = Buffer.from(line);
      fs.writeSync(this.#fd, buf);
      this.#written += buf.length;
    } catch {
      // A full or vanished disk must not take the agent down with it; stdout still has the line.
    }
  }

  /** Closes the file. */
  close(): void {
    if (this.#fd >= 0) fs.closeSync(this.#fd);
    this.#fd = -1;
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
