// /v1/txn: decode Consul's op list (case-insensitive keys, base64 values), enforce the size and
// op-count limits, run the transaction, answer 200 or 409 with Errors.
import { TxnEndpoint, isReadOnly, type TxnOpInput, type TxnKVOp, type CatalogTxnOp } from '../../endpoint/index.ts';
import { BadRequestError, TooLargeError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { refuseUnknownInList } from '../known-fields.ts';
import { TXN_OP } from '../request-fields.ts';
import { toKVPair } from './kv.ts';
import { TXN_APPLY, TXN_READ } from '../rate-limit-ops.ts';
import { queryOptions, checkDatacenter, parseToken, type HttpRequest, type RequestConfig, authzOf } from '../request.ts';
import { resolveEnt, type AclIdentity, type EntFields, type QueryOptions } from '../../endpoint/index.ts';
import { bodyEnt } from '../tenancy.ts';
import { foldTenancyName, isDefaultEnt } from '../../state/index.ts';
import { decodeProxy } from '../../agent/local/registration.ts';

/** Consul's current cap on operations per transaction. */
export const MAX_TXN_OPS = 128;

const OP_FIELDS = ['KV', 'Node', 'Service', 'Check', 'Session'] as const;
const KV_FIELDS = ['Verb', 'Key', 'Value', 'Flags', 'Index', 'Session', 'Namespace', 'Partition'] as const;

/**
 * Go's base64.StdEncoding.DecodeString, which Consul's JSON decoder applies to `Value`: CR/LF are
 * skipped, padding is required, and a failure names the offending byte as Go does.
 */
export function decodeBase64(s: string): Buffer {
  const alphabet = /[A-Za-z0-9+/]/;
  const corrupt = (at: number): never => {
    throw new BadRequestError(`Failed to parse body: illegal base64 data at input byte ${at}`);
  };
  const skipNewlines = (i: number): number => {
    while (i < s.length && (s[i] === '\n' || s[i] === '\r')) i++;
    return i;
  };
  let si = 0;
  while (si < s.length) {
    for (let j = 0; j < 4; j++) {
      if (si === s.length) {
        if (j === 0) return Buffer.from(s, 'base64');
        corrupt(si - j);
      }
      const c = s[si++];
      if (alphabet.test(c)) continue;
      if (c === '\n' || c === '\r') { j--; continue; }
      if (c !== '=' || j < 2) corrupt(si - 1);
      if (j === 2) {
        si = skipNewlines(si);
        if (si === s.length) corrupt(s.length);
        if (s[si] !== '=') corrupt(si - 1);
        si++;
      }
      si = skipNewlines(si);
      if (si < s.length) corrupt(si);
      return Buffer.from(s, 'base64');
    }
  }
  return Buffer.from(s, 'base64');
}

function decodeKV(raw: unknown): TxnKVOp {
  const kv = canonical(raw, KV_FIELDS);
  let value: Buffer | null = null;
  if (kv.Value !== undefined && kv.Value !== null) {
    if (typeof kv.Value !== 'string') throw new BadRequestError(`Failed to parse body: unexpected value type: ${typeof kv.Value}`);
    value = decodeBase64(kv.Value);
  }
  return {
    Verb: typeof kv.Verb === 'string' ? kv.Verb : '',
    Key: typeof kv.Key === 'string' ? kv.Key : '',
    Value: value,
    Flags: typeof kv.Flags === 'bigint' ? kv.Flags : BigInt(Math.max(0, Math.trunc(Number(kv.Flags ?? 0))) || 0),
    Index: Number(kv.Index ?? 0) || 0,
    Session: typeof kv.Session === 'string' ? kv.Session : '',
    ...tenantFields(kv),
  };
}

/** A KV op's Namespace/Partition, checked; resolved into the op's tenant once the token is known (txnTenants). */
function tenantFields(kv: Record<string, unknown>): { tenancy?: EntFields } {
  const t = bodyEnt({ namespace: kv.Namespace, partition: kv.Partition });
  return t.namespace || t.partition ? { tenancy: t } : {};
}

/**
 * Sets each KV op's tenant: its own Namespace/Partition fields, then the token's scope (Consul's
 * ResolveTokenAndDefaultMeta); ?ns is not read (Consul's /v1/txn takes the ops' fields only).
 * Session ops act in the token's scope.
 */
function txnTenants(ops: TxnOpInput[], authz: AclIdentity | undefined): void {
  for (const op of ops) {
    // A Session op has no tenancy fields: it acts in the token's scope, so another tenant's session is not found.
    if (op.Session && authz?.ent && !isDefaultEnt(authz.ent)) op.Session.ent = authz.ent;
    catalogTenant(op.Service, authz);
    catalogTenant(op.Check, authz);
    const kv = op.KV as (TxnKVOp & { tenancy?: EntFields }) | undefined;
    if (!kv || (!kv.tenancy && !authz?.ent)) continue;
    const ent = resolveEnt({ body: kv.tenancy, token: authz?.ent });
    delete kv.tenancy;
    if (!isDefaultEnt(ent)) kv.ent = ent;
  }
}

/**
 * A Service or Check op's namespace and partition: its `Namespace`/`Partition` fields (Consul's convertOps
 * reads both into the op's EnterpriseMeta), then the token's scope; set when either names one, `default`
 * included (results then show it).
 */
function catalogTenant(op: (CatalogTxnOp & { tenancy?: EntFields }) | undefined, authz: AclIdentity | undefined): void {
  if (!op) return;
  const named = op.tenancy;
  delete op.tenancy;
  if (!named && (!authz?.ent || isDefaultEnt(authz.ent))) return;
  const ent = resolveEnt({ body: named, token: authz?.ent });
  op.ent = { partition: foldTenancyName(ent.partition), namespace: ent.namespace };
}

const NODE_FIELDS = ['ID', 'Node', 'Address', 'Datacenter', 'TaggedAddresses', 'Meta', 'ModifyIndex', 'CreateIndex'];
const SERVICE_FIELDS = ['ID', 'Service', 'Tags', 'Address', 'TaggedAddresses', 'Meta', 'Port', 'Weights', 'EnableTagOverride', 'Kind', 'Proxy', 'Connect', 'Namespace', 'Partition', 'ModifyIndex', 'CreateIndex'];
const CHECK_FIELDS = ['Node', 'CheckID', 'Name', 'Status', 'Notes', 'Output', 'ServiceID', 'ServiceName', 'ServiceTags', 'Type', 'Definition', 'Interval', 'Timeout', 'Namespace', 'Partition', 'ModifyIndex', 'CreateIndex'];

/**
 * The Proxy a txn Service op stores: Consul's convertOps copies only the destination, the local
 * service address, the mesh gateway mode and the transparent proxy settings of the API struct,
 * so Mode, Config, Upstreams and Expose are dropped and stored as their zero values.
 */
export function txnProxy(raw: object): Record<string, unknown> {
  const p = decodeProxy(raw, '');
  const out: Record<string, unknown> = {};
  if (p.TransparentProxy) out.TransparentProxy = p.TransparentProxy;
  for (const k of ['DestinationServiceName', 'DestinationServiceID', 'LocalServiceAddress', 'LocalServicePort', 'LocalServiceSocketPath'] as const) {
    if (p[k]) out[k] = p[k];
  }
  return { ...out, Mode: '', MeshGateway: p.MeshGateway, Expose: {} };
}

/** Decodes a Node/Service/Check op with case-insensitive field names. */
function decodeCatalogOp(raw: unknown, kind: 'Node' | 'Service' | 'Check'): CatalogTxnOp {
  const op = canonical(raw, ['Verb', 'Node', 'Service', 'Check']);
  const out: CatalogTxnOp = { Verb: typeof op.Verb === 'string' ? op.Verb : '' };
  if (kind === 'Node') out.Node = canonical(op.Node, NODE_FIELDS);
  if (kind === 'Service') {
    out.Node = typeof op.Node === 'string' ? op.Node : '';
    out.Service = canonical(op.Service, SERVICE_FIELDS);
    const proxy = out.Service.Proxy;
    if (proxy !== null && typeof proxy === 'object') out.Service.Proxy = txnProxy(proxy);
  }
  if (kind === 'Check') out.Check = canonical(op.Check, CHECK_FIELDS);
  const rec = out.Service ?? out.Check;
  if ((rec?.Namespace !== undefined && rec.Namespace !== '') || (rec?.Partition !== undefined && rec.Partition !== '')) {
    // Checked as a request's namespace and partition are (DNS labels, no wildcard; `default` in any case is default).
    const t = bodyEnt({ namespace: rec.Namespace, partition: rec.Partition });
    (out as CatalogTxnOp & { tenancy?: EntFields }).tenancy = t;
  }
  return out;
}

/** Decodes and validates a transaction body in Consul's order: decode, op count, value sizes. */
export function decodeTxn(body: Buffer, kvMax: number): TxnOpInput[] {
  const raw = parseJSON(body, 'Failed to parse body');
  if (!Array.isArray(raw)) throw new BadRequestError('Failed to parse body: json: cannot unmarshal object into Go value of type api.TxnOps');
  // Consul decodes into api.TxnOps refusing unknown keys (its decodeBody); the catalog ops' inner structs are not walked here.
  refuseUnknownInList(raw, TXN_OP, 'Failed to parse body');
  const ops = raw.map((r) => {
    const op = canonical(r, OP_FIELDS);
    const out: TxnOpInput = {};
    if (op.KV !== undefined && op.KV !== null) out.KV = decodeKV(op.KV);
    if (op.Session) {
      const so = canonical(op.Session, ['Verb', 'Session']);
      const sess = canonical(so.Session, ['ID']);
      out.Session = { Verb: typeof so.Verb === 'string' ? so.Verb : '', Session: { ID: typeof sess.ID === 'string' ? sess.ID : '' } };
    }
    if (op.Node) out.Node = decodeCatalogOp(op.Node, 'Node');
    if (op.Service) out.Service = decodeCatalogOp(op.Service, 'Service');
    if (op.Check) out.Check = decodeCatalogOp(op.Check, 'Check');
    return out;
  });
  if (ops.length > MAX_TXN_OPS) {
    throw new TooLargeError(`Transaction contains too many operations (${ops.length} > ${MAX_TXN_OPS})`);
  }
  for (const { KV } of ops) {
    if (KV?.Value && KV.Value.length > kvMax) {
      throw new TooLargeError(`Value for key ${JSON.stringify(KV.Key)} is too large (${KV.Value.length} > ${kvMax} bytes)`);
    }
  }
  return ops;
}

/** Handlers for the txn route. */
export function txnHandlers(txn: TxnEndpoint, cfg: RequestConfig & { kvMaxValueSize: number; txnMaxReqLen: number }) {
  const maxLen = Math.max(cfg.txnMaxReqLen, cfg.kvMaxValueSize);
  return {
    async put(req: HttpRequest): Promise<HttpResult> {
      const body = await req.body(maxLen, (size) =>
        `Request body(${size} bytes) too large, max size: ${maxLen} bytes. See https://www.consul.io/docs/agent/config/config-files#txn_max_req_len.`);
      const ops = decodeTxn(body, cfg.kvMaxValueSize);
      const readOnly = isReadOnly(ops);
      // Consul's HTTP endpoint decodes the body, then makes Txn.Read or Txn.Apply: that RPC is what its limits count.
      req.countRpc?.(readOnly ? TXN_READ : TXN_APPLY);
      let opts: QueryOptions;
      if (readOnly) opts = queryOptions(req, cfg, { tenancy: false });
      else {
        checkDatacenter(req, cfg);
        opts = { minIndex: 0, waitMs: 0, consistency: 'default', token: parseToken(req, cfg), authz: authzOf(req, cfg) };
      }
      txnTenants(ops, opts.authz);
      const out = await txn.apply(ops, opts);
      const res: Record<string, unknown> = {
        Results: out.results ? out.results.map((r) => (r.KV ? { KV: toKVPair(r.KV) } : r)) : null,
        Errors: out.errors,
      };
      const headers: Record<string, string> = {};
      if (out.meta) {
        headers['X-Consul-KnownLeader'] = String(out.meta.knownLeader);
        headers['X-Consul-LastContact'] = String(out.meta.lastContact);
        // Consul's TxnReadResponse embeds QueryMeta, so read-only answers carry its fields
        // (LastContact as Go nanoseconds; Index stays 0 because txn reads do not block).
        Object.assign(res, {
          Index: 0, LastContact: out.meta.lastContact * 1e6, KnownLeader: out.meta.knownLeader, ConsistencyLevel: '',
          NotModified: false, Backend: 0, ResultsFilteredByACLs: false,
        });
      }
      return { status: out.errors ? 409 : 200, body: res, headers };
    },
  };
}
