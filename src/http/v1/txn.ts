// /v1/txn: decode Consul's op list (case-insensitive keys, base64 values), enforce the size and
// op-count limits, run the transaction, answer 200 or 409 with Errors.
import { TxnEndpoint, isReadOnly, type TxnOpInput, type TxnKVOp } from '../../endpoint/index.ts';
import { BadRequestError, TooLargeError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { toKVPair } from './kv.ts';
import { queryOptions, checkTarget, parseToken, type HttpRequest, type RequestConfig } from '../request.ts';
import type { QueryOptions } from '../../endpoint/index.ts';

/** Consul's current cap on operations per transaction. */
export const MAX_TXN_OPS = 128;

const OP_FIELDS = ['KV', 'Node', 'Service', 'Check', 'Session'] as const;
const KV_FIELDS = ['Verb', 'Key', 'Value', 'Flags', 'Index', 'Session', 'Namespace', 'Partition'] as const;

function decodeKV(raw: unknown, kvMax: number): TxnKVOp {
  const kv = canonical(raw, KV_FIELDS);
  let value: Buffer | null = null;
  if (kv.Value !== undefined && kv.Value !== null) {
    if (typeof kv.Value !== 'string') throw new BadRequestError(`Failed to parse body: unexpected value type: ${typeof kv.Value}`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(kv.Value) || kv.Value.length % 4 !== 0) {
      throw new BadRequestError('Failed to parse body: failed to decode value: illegal base64 data');
    }
    value = Buffer.from(kv.Value, 'base64');
  }
  const key = typeof kv.Key === 'string' ? kv.Key : '';
  if (value && value.length > kvMax) {
    throw new TooLargeError(`Value for key ${JSON.stringify(key)} is too large (${value.length} > ${kvMax} bytes)`);
  }
  return {
    Verb: typeof kv.Verb === 'string' ? kv.Verb : '',
    Key: key,
    Value: value,
    Flags: Number(kv.Flags ?? 0) || 0,
    Index: Number(kv.Index ?? 0) || 0,
    Session: typeof kv.Session === 'string' ? kv.Session : '',
  };
}

/** Decodes and validates a transaction body. */
export function decodeTxn(body: Buffer, kvMax: number): TxnOpInput[] {
  const raw = parseJSON(body, 'Failed to parse body');
  if (!Array.isArray(raw)) throw new BadRequestError('Failed to parse body: json: cannot unmarshal object into Go value of type api.TxnOps');
  if (raw.length > MAX_TXN_OPS) {
    throw new TooLargeError(`Transaction contains too many operations (${raw.length} > ${MAX_TXN_OPS})`);
  }
  return raw.map((r) => {
    const op = canonical(r, OP_FIELDS);
    const out: TxnOpInput = {};
    if (op.KV !== undefined && op.KV !== null) out.KV = decodeKV(op.KV, kvMax);
    for (const f of ['Node', 'Service', 'Check', 'Session'] as const) if (op[f]) out[f] = op[f];
    return out;
  });
}

/** Handlers for the txn route. */
export function txnHandlers(txn: TxnEndpoint, cfg: RequestConfig & { kvMaxValueSize: number; txnMaxReqLen: number }) {
  const maxLen = Math.max(cfg.txnMaxReqLen, cfg.kvMaxValueSize);
  return {
    async put(req: HttpRequest): Promise<HttpResult> {
      const body = await req.body(maxLen, () => `Request body too large, max size: ${maxLen} bytes`);
      const ops = decodeTxn(body, cfg.kvMaxValueSize);
      let opts: QueryOptions;
      if (isReadOnly(ops)) opts = queryOptions(req, cfg);
      else {
        checkTarget(req, cfg);
        opts = { minIndex: 0, waitMs: 0, consistency: 'default', token: parseToken(req, cfg) };
      }
      const out = await txn.apply(ops, opts);
      const res = {
        Results: out.results ? out.results.map((r) => ({ KV: toKVPair(r.KV) })) : null,
        Errors: out.errors,
      };
      const headers: Record<string, string> = {};
      if (out.meta) {
        headers['X-Consul-KnownLeader'] = String(out.meta.knownLeader);
        headers['X-Consul-LastContact'] = String(out.meta.lastContact);
      }
      return { status: out.errors ? 409 : 200, body: res, headers };
    },
  };
}
