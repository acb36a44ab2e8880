// The wire format of etcd's KV.Txn and KV.Range for the store's own unary transport (grpc-unary.ts):
// requests in etcd3's object shapes (ITxnRequest, IRangeRequest) encoded in two passes (sizes, then
// one buffer), answers decoded into the fields the store reads with revisions as plain numbers.
// etcd3's generic codec turned every int64 into a string through long.js and filled every default.
import type { IRangeRequest, ITxnRequest } from 'etcd3';
import { Reader, varintSize, writeVarint } from './proto-wire.ts';

/** A key's record (mvccpb.KeyValue); etcd3's IKeyValue fits it. */
export interface WireKeyValue {
  key: Buffer;
  value: Buffer;
  create_revision: number | string;
  mod_revision: number | string;
  version: number | string;
  lease: number | string;
}

/** What the store reads of a RangeResponse (etcd3's IRangeResponse fits it). */
export interface RangeAnswer {
  header: { revision: number | string };
  kvs: WireKeyValue[];
  count: number | string;
}

/** What the store reads of a ResponseOp: the one response its request made. */
export interface ResponseAnswer {
  response_range?: RangeAnswer;
  response_put?: { prev_kv?: WireKeyValue | null };
  response_delete_range?: { deleted: number | string; prev_kvs: WireKeyValue[] };
  response_txn?: TxnAnswer;
}

/** What the store reads of a TxnResponse (etcd3's ITxnResponse fits it). */
export interface TxnAnswer {
  header: { revision: number | string };
  succeeded: boolean;
  responses: ResponseAnswer[];
}

type Kind = 'bytes' | 'int' | 'bool' | 'enum' | Spec;
/** A message's fields: number, property, kind; `oneof` fields are written even when zero. */
type Spec = { no: number; name: string; kind: Kind; repeated?: boolean; oneof?: boolean; names?: Record<string, number> }[];

const COMPARE_RESULT = { Equal: 0, Greater: 1, Less: 2, NotEqual: 3 };
const COMPARE_TARGET = { Version: 0, Create: 1, Mod: 2, Value: 3, Lease: 4 };
const SORT_ORDER = { None: 0, Ascend: 1, Descend: 2 };
const SORT_TARGET = { Key: 0, Version: 1, Create: 2, Mod: 3, Value: 4 };

const RANGE: Spec = [
  { no: 1, name: 'key', kind: 'bytes' }, { no: 2, name: 'range_end', kind: 'bytes' },
  { no: 3, name: 'limit', kind: 'int' }, { no: 4, name: 'revision', kind: 'int' },
  { no: 5, name: 'sort_order', kind: 'enum', names: SORT_ORDER }, { no: 6, name: 'sort_target', kind: 'enum', names: SORT_TARGET },
  { no: 7, name: 'serializable', kind: 'bool' }, { no: 8, name: 'keys_only', kind: 'bool' }, { no: 9, name: 'count_only', kind: 'bool' },
  { no: 10, name: 'min_mod_revision', kind: 'int' }, { no: 11, name: 'max_mod_revision', kind: 'int' },
  { no: 12, name: 'min_create_revision', kind: 'int' }, { no: 13, name: 'max_create_revision', kind: 'int' },
];
const PUT: Spec = [
  { no: 1, name: 'key', kind: 'bytes' }, { no: 2, name: 'value', kind: 'bytes' }, { no: 3, name: 'lease', kind: 'int' },
  { no: 4, name: 'prev_kv', kind: 'bool' }, { no: 5, name: 'ignore_value', kind: 'bool' }, { no: 6, name: 'ignore_lease', kind: 'bool' },
];
const DELETE_RANGE: Spec = [{ no: 1, name: 'key', kind: 'bytes' }, { no: 2, name: 'range_end', kind: 'bytes' }, { no: 3, name: 'prev_kv', kind: 'bool' }];
const COMPARE: Spec = [
  { no: 1, name: 'result', kind: 'enum', names: COMPARE_RESULT }, { no: 2, name: 'target', kind: 'enum', names: COMPARE_TARGET },
  { no: 3, name: 'key', kind: 'bytes' },
  { no: 4, name: 'version', kind: 'int', oneof: true }, { no: 5, name: 'create_revision', kind: 'int', oneof: true },
  { no: 6, name: 'mod_revision', kind: 'int', oneof: true }, { no: 7, name: 'value', kind: 'bytes', oneof: true },
  { no: 8, name: 'lease', kind: 'int', oneof: true }, { no: 64, name: 'range_end', kind: 'bytes' },
];
const REQUEST_OP: Spec = [];
const TXN: Spec = [
  { no: 1, name: 'compare', kind: COMPARE, repeated: true },
  { no: 2, name: 'success', kind: REQUEST_OP, repeated: true },
  { no: 3, name: 'failure', kind: REQUEST_OP, repeated: true },
];
REQUEST_OP.push(
  { no: 1, name: 'request_range', kind: RANGE, oneof: true }, { no: 2, name: 'request_put', kind: PUT, oneof: true },
  { no: 3, name: 'request_delete_range', kind: DELETE_RANGE, oneof: true }, { no: 4, name: 'request_txn', kind: TXN, oneof: true },
);

type Msg = Record<string, unknown>;

function intOf(v: unknown): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`etcd request: ${String(v)} is not an integer the store can send`);
  return n;
}

function enumOf(v: unknown, names: Record<string, number> | undefined): number {
  if (typeof v === 'number') return v;
  const n = names?.[String(v)];
  if (n === undefined) throw new Error(`etcd request: unknown enum value ${String(v)}`);
  return n;
}

/** The scalar's encoded payload size (varint or bytes with their length), or -1 when proto3 leaves it out. */
function scalarSize(kind: Kind, v: unknown, oneof: boolean, names?: Record<string, number>): number {
  switch (kind) {
    case 'bytes': {
      const len = (v as Uint8Array).length;
      return len === 0 && !oneof ? -1 : varintSize(len) + len;
    }
    case 'bool': return v ? 1 : -1;
    case 'int': {
      const n = intOf(v);
      return n === 0 && !oneof ? -1 : varintSize(n);
    }
    case 'enum': {
      const n = enumOf(v, names);
      return n === 0 ? -1 : varintSize(n);
    }
    default: return -1;
  }
}

/** Pass one: the message's size; every nested message's size is pushed in visiting order. */
function sizeOf(spec: Spec, msg: Msg, sizes: number[]): number {
  const slot = sizes.length;
  sizes.push(0);
  let total = 0;
  for (const f of spec) {
    const v = msg[f.name];
    if (v === undefined || v === null) continue;
    const tag = varintSize(f.no << 3);
    if (typeof f.kind !== 'string') {
      for (const m of (f.repeated ? v : [v]) as Msg[]) {
        const len = sizeOf(f.kind, m, sizes);
        total += tag + varintSize(len) + len;
      }
      continue;
    }
    const s = scalarSize(f.kind, v, f.oneof === true, f.names);
    if (s >= 0) total += tag + s;
  }
  sizes[slot] = total;
  return total;
}

/** Pass two: writes the message's fields at `pos`; `at.i` walks the sizes pass one pushed. */
function writeMsg(spec: Spec, msg: Msg, buf: Buffer, pos: number, sizes: number[], at: { i: number }): number {
  at.i++;
  for (const f of spec) {
    const v = msg[f.name];
    if (v === undefined || v === null) continue;
    if (typeof f.kind !== 'string') {
      for (const m of (f.repeated ? v : [v]) as Msg[]) {
        pos = writeVarint(buf, pos, (f.no << 3) | 2);
        pos = writeVarint(buf, pos, sizes[at.i]);
        pos = writeMsg(f.kind, m, buf, pos, sizes, at);
      }
      continue;
    }
    if (scalarSize(f.kind, v, f.oneof === true, f.names) < 0) continue;
    if (f.kind === 'bytes') {
      const b = v as Uint8Array;
      pos = writeVarint(buf, pos, (f.no << 3) | 2);
      pos = writeVarint(buf, pos, b.length);
      buf.set(b, pos);
      pos += b.length;
    } else {
      pos = writeVarint(buf, pos, f.no << 3);
      pos = writeVarint(buf, pos, f.kind === 'bool' ? 1 : f.kind === 'enum' ? enumOf(v, f.names) : intOf(v));
    }
  }
  return pos;
}

/** A gRPC message frame: not compressed, the length, then the message. */
function frame(spec: Spec, msg: Msg): Buffer {
  const sizes: number[] = [];
  const len = sizeOf(spec, msg, sizes);
  const buf = Buffer.allocUnsafe(5 + len);
  buf[0] = 0;
  buf.writeUInt32BE(len, 1);
  const end = writeMsg(spec, msg, buf, 5, sizes, { i: 0 });
  if (end !== buf.length) throw new Error(`etcd request: encoded ${end - 5} bytes of ${len}`);
  return buf;
}

/** A TxnRequest as a gRPC message frame. */
export function encodeTxn(req: ITxnRequest): Buffer {
  return frame(TXN, req as Msg);
}

/** A RangeRequest as a gRPC message frame. */
export function encodeRange(req: IRangeRequest): Buffer {
  return frame(RANGE, req as Msg);
}

/** Decodes a TxnResponse. */
export function decodeTxn(buf: Buffer): TxnAnswer {
  return txnAt(buf, 0, buf.length);
}

/** Decodes a RangeResponse. */
export function decodeRange(buf: Buffer): RangeAnswer {
  return rangeAt(buf, 0, buf.length);
}

function txnAt(buf: Buffer, start: number, end: number): TxnAnswer {
  const r = new Reader(buf, start, end);
  const res: TxnAnswer = { header: { revision: 0 }, succeeded: false, responses: [] };
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) res.header = headerAt(buf, ...r.span());
    else if (field === 2 && wire === 0) res.succeeded = r.varint() !== 0;
    else if (field === 3 && wire === 2) res.responses.push(responseOpAt(buf, ...r.span()));
    else r.skip(wire);
  }
  return res;
}

function headerAt(buf: Buffer, start: number, end: number): { revision: number } {
  const r = new Reader(buf, start, end);
  const h = { revision: 0 };
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === (3 << 3)) h.revision = r.varint();
    else r.skip(tag & 7);
  }
  return h;
}

function responseOpAt(buf: Buffer, start: number, end: number): ResponseAnswer {
  const r = new Reader(buf, start, end);
  const op: ResponseAnswer = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire !== 2) r.skip(wire);
    else if (field === 1) op.response_range = rangeAt(buf, ...r.span());
    else if (field === 2) op.response_put = putAt(buf, ...r.span());
    else if (field === 3) op.response_delete_range = deleteRangeAt(buf, ...r.span());
    else if (field === 4) op.response_txn = txnAt(buf, ...r.span());
    else r.skip(wire);
  }
  return op;
}

function rangeAt(buf: Buffer, start: number, end: number): RangeAnswer {
  const r = new Reader(buf, start, end);
  const res: RangeAnswer = { header: { revision: 0 }, kvs: [], count: 0 };
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) res.header = headerAt(buf, ...r.span());
    else if (field === 2 && wire === 2) res.kvs.push(keyValueAt(buf, ...r.span()));
    else if (field === 4 && wire === 0) res.count = r.varint();
    else r.skip(wire);
  }
  return res;
}

function putAt(buf: Buffer, start: number, end: number): { prev_kv: WireKeyValue | null } {
  const r = new Reader(buf, start, end);
  const res: { prev_kv: WireKeyValue | null } = { prev_kv: null };
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((2 << 3) | 2)) res.prev_kv = keyValueAt(buf, ...r.span());
    else r.skip(tag & 7);
  }
  return res;
}

function deleteRangeAt(buf: Buffer, start: number, end: number): { deleted: number; prev_kvs: WireKeyValue[] } {
  const r = new Reader(buf, start, end);
  const res = { deleted: 0, prev_kvs: [] as WireKeyValue[] };
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === (2 << 3)) res.deleted = r.varint();
    else if (tag === ((3 << 3) | 2)) res.prev_kvs.push(keyValueAt(buf, ...r.span()));
    else r.skip(tag & 7);
  }
  return res;
}

const EMPTY = Buffer.alloc(0);

/** A record whose key and value are views of the response (the store copies what it keeps). */
function keyValueAt(buf: Buffer, start: number, end: number): WireKeyValue {
  const r = new Reader(buf, start, end);
  const kv: WireKeyValue = { key: EMPTY, value: EMPTY, create_revision: 0, mod_revision: 0, version: 0, lease: 0 };
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 2 && (field === 1 || field === 5)) {
      const [s, e] = r.span();
      if (field === 1) kv.key = buf.subarray(s, e);
      else kv.value = buf.subarray(s, e);
    } else if (wire === 0 && field === 2) kv.create_revision = r.varint();
    else if (wire === 0 && field === 3) kv.mod_revision = r.varint();
    else if (wire === 0 && field === 4) kv.version = r.varint();
    else if (wire === 0 && field === 6) kv.lease = r.varint();
    else r.skip(wire);
  }
  return kv;
}
