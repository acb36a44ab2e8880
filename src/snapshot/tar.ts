// A minimal ustar writer and reader for snapshot and debug archives: regular files (and the debug
// bundle's directory entries) as Go's archive/tar writes them for short names. The reader also
// skips PAX headers and honours GNU long names, so archives made by other tar tools read back too.

const BLOCK = 512;

/** One file in an archive. */
export interface TarEntry {
  name: string;
  data: Buffer;
  /** Unix permission bits (default 0600, as Consul writes them). */
  mode?: number;
  /** Modification time, ms since the epoch (default now). */
  mtimeMs?: number;
  /** A directory entry (no data) rather than a regular file; the debug bundle lists its folders. */
  dir?: boolean;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(e: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(e.name) > 100) throw new Error(`tar: name too long: ${e.name}`);
  h.write(e.name, 0, 100, 'utf8');
  h.write(octal(e.mode ?? 0o600, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(e.data.length, 12), 124, 'ascii');
  h.write(octal(Math.floor((e.mtimeMs ?? Date.now()) / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(e.dir ? '5' : '0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'binary');
  h.write(octal(checksum(h), 7) + ' ', 148, 'ascii');
  return h;
}

// The header checksum: the byte sum with the checksum field read as eight spaces.
function checksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Encodes entries as a tar archive ending in two zero blocks. */
export function writeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) parts.push(header(e), e.data, padding(e.data.length));
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function parseOctal(h: Buffer, start: number, len: number, what: string): number {
  const s = field(h, start, len).trim();
  if (!/^[0-7]*$/.test(s)) throw new Error(`invalid tar header: bad ${what}`);
  return s ? parseInt(s, 8) : 0;
}

/** Decodes a tar archive into its regular files, in order; throws on a malformed archive. */
export function readTar(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let longName: string | null = null;
  for (let off = 0; ; ) {
    if (off + BLOCK > buf.length) throw new Error('unexpected EOF');
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return out;
    if (parseOctal(h, 148, 8, 'checksum') !== checksum(h)) throw new Error('invalid tar header: checksum mismatch');
    const size = parseOctal(h, 124, 12, 'size');
    const type = String.fromCharCode(h[156] || 0x30);
    const start = off + BLOCK;
    if (start + size > buf.length) throw new Error('unexpected EOF');
    const data = Buffer.from(buf.subarray(start, start + size));
    off = start + size + padding(size).length;
    if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
    else if (type === '0' || type === '7') {
      const prefix = field(h, 345, 155);
      const name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
      out.push({ name, data, mode: parseOctal(h, 100, 8, 'mode'), mtimeMs: parseOctal(h, 136, 12, 'mtime') * 1000 });
      longName = null;
    }
    // PAX ('x', 'g'), directories and links carry nothing a snapshot needs.
  }
}
