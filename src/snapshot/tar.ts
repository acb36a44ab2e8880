// A minimal tar writer and reader for snapshot and debug archives: regular files (and the debug
// bundle's directory entries) as Go's archive/tar writes them, long names included (a ustar
// prefix split where one fits, else a PAX 'x' header). The reader honours PAX paths and sizes and
// GNU long names, so archives made by other tar tools read back too.

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

const NAME_SIZE = 100;
const PREFIX_SIZE = 155;

// Go's splitUSTARPath: an ASCII name over 100 bytes goes into prefix/name at a slash, if one
// leaves a prefix of at most 155 bytes and a non-empty name of at most 100.
function splitUstar(name: string): [string, string] | null {
  if (name.length <= NAME_SIZE || !isAscii(name)) return null;
  let length = name.length;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (name[length - 1] === '/') length--;
  const i = name.lastIndexOf('/', length - 1);
  const suffix = name.length - i - 1;
  if (i <= 0 || suffix > NAME_SIZE || suffix === 0 || i > PREFIX_SIZE) return null;
  return [name.slice(0, i), name.slice(i + 1)];
}

function isAscii(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

// Go's toASCII: the fallback name in a PAX entry's own header drops what ustar cannot hold.
function toAscii(s: string): string {
  return s.replace(/[^\x00-\x7f]/g, '');
}

// One PAX record, `<len> key=value\n`, whose length counts its own digits (Go's formatPAXRecord).
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let size = bodyLen + String(bodyLen).length;
  if (String(size).length + bodyLen !== size) size = String(size).length + bodyLen;
  return `${size}${body}`;
}

// A name cut to the 100-byte field, as Go's formatString does, without a trailing slash that a
// reader could take for a directory when the PAX path says otherwise.
function v7Name(name: string): string {
  const ascii = toAscii(name);
  return ascii.length > NAME_SIZE ? ascii.slice(0, NAME_SIZE).replace(/\/+$/, '') : ascii;
}

interface RawHeader {
  name: string;
  prefix?: string;
  mode: number;
  size: number;
  mtimeSec: number;
  type: string;
}

function rawHeader(r: RawHeader): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(r.name, 0, NAME_SIZE, 'utf8');
  h.write(octal(r.mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(r.size, 12), 124, 'ascii');
  h.write(octal(r.mtimeSec, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(r.type, 156, 'ascii');
  h.write('ustar\u000000', 257, 'binary');
  if (r.type !== 'x') {
    // devmajor and devminor: Go fills them for entries, not for its minimal PAX header file.
    h.write(octal(0, 8), 329, 'ascii');
    h.write(octal(0, 8), 337, 'ascii');
  }
  if (r.prefix) h.write(r.prefix, 345, PREFIX_SIZE, 'ascii');
  h.write(octal(checksum(h), 7) + ' ', 148, 'ascii');
  return h;
}

// The header blocks for one entry, chosen as Go's Writer chooses its format: plain ustar for a
// short ASCII name, ustar with a prefix when the name splits, otherwise a PAX extended header
// ('x', named <dir>/PaxHeaders.0/<base> like Go's) carrying the full path before the entry.
function headers(e: TarEntry): Buffer[] {
  const base = { mode: e.mode ?? 0o600, size: e.data.length, mtimeSec: Math.floor((e.mtimeMs ?? Date.now()) / 1000), type: e.dir ? '5' : '0' };
  if (isAscii(e.name) && e.name.length <= NAME_SIZE) return [rawHeader({ ...base, name: e.name })];
  const split = splitUstar(e.name);
  if (split) return [rawHeader({ ...base, prefix: split[0], name: split[1] })];
  const records = Buffer.from(paxRecord('path', e.name));
  const cut = e.name.lastIndexOf('/') + 1;
  const dir = e.name.slice(0, cut).replace(/\/+$/, '');
  const paxName = [dir, 'PaxHeaders.0', e.name.slice(cut)].filter(Boolean).join('/');
  const pax = rawHeader({ name: toAscii(paxName).slice(0, NAME_SIZE).replace(/\/+$/, ''), mode: 0, size: records.length, mtimeSec: 0, type: 'x' });
  return [pax, records, padding(records.length), rawHeader({ ...base, name: v7Name(e.name) })];
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
  for (const e of entries) parts.push(...headers(e), e.data, padding(e.data.length));
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

// The records of a PAX extended header; a malformed one is a malformed archive, as in Go's
// reader (parsePAXRecord, validPAXRecord): a decimal length counting the whole record and ending
// at its newline, a non-empty key, and no NUL in a key or a path.
function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  const bad = () => new Error('invalid tar header: bad PAX record');
  for (let off = 0; off < data.length; ) {
    const space = data.indexOf(0x20, off);
    const digits = space < 0 ? '' : data.toString('ascii', off, space);
    const len = /^\d{1,15}$/.test(digits) ? Number(digits) : NaN;
    if (!(len > space - off) || off + len > data.length || data[off + len - 1] !== 0x0a) throw bad();
    const rec = data.toString('utf8', space + 1, off + len - 1);
    const eq = rec.indexOf('=');
    if (eq <= 0) throw bad();
    const key = rec.slice(0, eq);
    const value = rec.slice(eq + 1);
    if (key.includes('\0') || ((key === 'path' || key === 'linkpath') && value.includes('\0'))) throw bad();
    out.set(key, value);
    off += len;
  }
  return out;
}

// A PAX size record: decimal digits only (Go's ParseInt, which refuses '', '1e3' and '0x10').
function paxSize(v: string): number {
  return /^\d{1,15}$/.test(v) ? Number(v) : NaN;
}

/** Decodes a tar archive into its regular files, in order; throws on a malformed archive. */
export function readTar(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let longName: string | null = null;
  let pax = new Map<string, string>();
  for (let off = 0; ; ) {
    if (off + BLOCK > buf.length) throw new Error('unexpected EOF');
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return out;
    if (parseOctal(h, 148, 8, 'checksum') !== checksum(h)) throw new Error('invalid tar header: checksum mismatch');
    const type = String.fromCharCode(h[156] || 0x30);
    const paxSizeRecord = pax.get('size');
    const size = paxSizeRecord !== undefined && (type === '0' || type === '7') ? paxSize(paxSizeRecord) : parseOctal(h, 124, 12, 'size');
    if (!Number.isSafeInteger(size) || size < 0) throw new Error('invalid tar header: bad size');
    const start = off + BLOCK;
    if (start + size > buf.length) throw new Error('unexpected EOF');
    const data = Buffer.from(buf.subarray(start, start + size));
    off = start + size + padding(size).length;
    if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
    else if (type === 'x') pax = parsePax(data);
    else if (type !== 'g') {
      if (type === '0' || type === '7') {
        const prefix = field(h, 345, 155);
        const name = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
        out.push({ name, data, mode: parseOctal(h, 100, 8, 'mode'), mtimeMs: parseOctal(h, 136, 12, 'mtime') * 1000 });
      }
      // Extended headers describe only the entry that follows them.
      longName = null;
      pax = new Map();
    }
    // Global PAX headers ('g'), directories and links carry nothing a snapshot needs.
  }
}
