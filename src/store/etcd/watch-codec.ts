// The etcd Watch stream's wire format, for the one create request the store sends and the
// responses it reads. etcd3's generic decoder turns every int64 into a string through long.js
// and fills every default field: a quarter of the agent's main thread while it applies a stream
// of writes. This reads only the fields the watch uses, with revisions as plain numbers (exact
// below 2^53, far beyond any etcd revision), and skips the rest (header, watch id, prev_kv).

/** The watch stream's create request (rpc.proto WatchCreateRequest), without prev_kv. */
export interface WatchCreate {
  key: Buffer;
  rangeEnd: Buffer;
  startRevision: number;
}

/** One event of a response (mvccpb.Event's kv): the key's record after a put, key and revisions after a delete. */
export interface WireEvent {
  type: 'Put' | 'Delete';
  key: Buffer;
  /** A copy: it outlives the response buffer. */
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: number;
}

/** The fields of a WatchResponse the store reads. */
export interface WireWatchResponse {
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  events: WireEvent[];
}

const EMPTY = Buffer.alloc(0);

/** Encodes `WatchRequest{create_request}` (field 1). */
export function encodeWatchCreate(req: WatchCreate): Buffer {
  const inner: number[] = [];
  bytesField(inner, 1, req.key);
  bytesField(inner, 2, req.rangeEnd);
  if (req.startRevision > 0) {
    inner.push(3 << 3);
    varint(inner, req.startRevision);
  }
  const out: number[] = [];
  out.push((1 << 3) | 2);
  varint(out, inner.length);
  for (const b of inner) out.push(b);
  return Buffer.from(out);
}

function bytesField(out: number[], field: number, b: Buffer): void {
  out.push((field << 3) | 2);
  varint(out, b.length);
  for (const x of b) out.push(x);
}

function varint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** A cursor over one message's bytes. */
class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** A varint as a number (exact below 2^53; a negative int64's ten bytes give a huge positive). */
  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('etcd watch response: truncated varint');
      const b = this.buf[this.pos++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  }

  /** The bounds of a length-delimited field's payload; moves past it. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new Error('etcd watch response: truncated field');
    return [start, this.pos];
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.span();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`etcd watch response: unsupported wire type ${wireType}`);
  }
}

/** Decodes a WatchResponse (rpc.proto) into the fields the store reads. */
export function decodeWatchResponse(buf: Buffer): WireWatchResponse {
  const r = new Reader(buf, 0, buf.length);
  const res: WireWatchResponse = { created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] };
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 3 && wire === 0) res.created = r.varint() !== 0;
    else if (field === 4 && wire === 0) res.canceled = r.varint() !== 0;
    else if (field === 5 && wire === 0) res.compactRevision = r.varint();
    else if (field === 6 && wire === 2) {
      const [s, e] = r.span();
      res.cancelReason = buf.toString('utf8', s, e);
    } else if (field === 11 && wire === 2) {
      const [s, e] = r.span();
      res.events.push(decodeEvent(buf, s, e));
    } else r.skip(wire);
  }
  return res;
}

function decodeEvent(buf: Buffer, start: number, end: number): WireEvent {
  const r = new Reader(buf, start, end);
  const ev: WireEvent = { type: 'Put', key: EMPTY, value: EMPTY, createRevision: 0, modRevision: 0, version: 0, lease: 0 };
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === 0) ev.type = r.varint() === 1 ? 'Delete' : 'Put';
    else if (field === 2 && wire === 2) {
      const [s, e] = r.span();
      decodeKeyValue(buf, s, e, ev);
    } else r.skip(wire); // prev_kv (never asked for) and anything newer
  }
  return ev;
}

function decodeKeyValue(buf: Buffer, start: number, end: number, ev: WireEvent): void {
  const r = new Reader(buf, start, end);
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 2 && (field === 1 || field === 5)) {
      const [s, e] = r.span();
      if (field === 1) ev.key = buf.subarray(s, e);
      else ev.value = Buffer.copyBytesFrom(buf, s, e - s);
    } else if (wire === 0 && field === 2) ev.createRevision = r.varint();
    else if (wire === 0 && field === 3) ev.modRevision = r.varint();
    else if (wire === 0 && field === 4) ev.version = r.varint();
    else if (wire === 0 && field === 6) ev.lease = r.varint();
    else r.skip(wire);
  }
}
