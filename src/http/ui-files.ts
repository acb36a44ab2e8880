// The UI files an agent serves, kept in memory while they are unchanged: each request still stats
// its file (asynchronously, so a moved or rebuilt ui_config.dir is seen at once), but a file
// whose inode, size and times are as before is not read again. Bounded by total bytes, least
// recently served first out; files too large to keep are read per request.
import fsp from 'node:fs/promises';
import type { Stats } from 'node:fs';

/** The file system calls the UI server makes (node:fs/promises; tests count them). */
export interface UiFs {
  stat(file: string): Promise<Stats>;
  readFile(file: string): Promise<Buffer>;
}

export const nodeUiFs: UiFs = { stat: (f) => fsp.stat(f), readFile: (f) => fsp.readFile(f) };

/** What identifies one version of a file. */
export function fileVersion(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** Read-through cache of file bodies keyed by path and version. */
export class UiFileCache {
  readonly #fs: UiFs;
  readonly #maxBytes: number;
  readonly #maxFile: number;
  readonly #files = new Map<string, { version: string; body: Buffer }>();
  #bytes = 0;

  constructor(fs: UiFs, maxBytes = 64 * 1024 * 1024, maxFile = 8 * 1024 * 1024) {
    this.#fs = fs;
    this.#maxBytes = maxBytes;
    this.#maxFile = maxFile;
  }

  /** The body of `file` as `st` describes it: from memory when that version was read before. */
  async read(file: string, st: Stats): Promise<Buffer> {
    const version = fileVersion(st);
    const hit = this.#files.get(file);
    if (hit) {
      this.#files.delete(file);
      if (hit.version === version) {
        this.#files.set(file, hit);
        return hit.body;
      }
      this.#bytes -= hit.body.length;
    }
    const body = await this.#fs.readFile(file);
    if (body.length > this.#maxFile) return body;
    const old = this.#files.get(file);
    if (old) this.#bytes -= old.body.length;
    this.#files.set(file, { version, body });
    this.#bytes += body.length;
    for (const [k, v] of this.#files) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#files.delete(k);
      this.#bytes -= v.body.length;
    }
    return body;
  }
}
