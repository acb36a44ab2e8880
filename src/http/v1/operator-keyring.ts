// /v1/operator/keyring: list (GET), install (POST), use (PUT) and remove (DELETE) gossip
// encryption keys across the WAN pool (on servers that have one, answered first as Consul does)
// and the LAN pool, in Consul's KeyringResponse shape with the per-node failures turned into
// Consul's multi-error text.
import { BadRequestError, InternalError } from '../../errors.ts';
import { authorize } from '../../endpoint/index.ts';
import type { GossipKeyring, KeyringReport, KeyList } from '../../gossip/index.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { KEYRING_ARGS } from '../request-fields.ts';
import { authzOf, type HttpRequest, type RequestConfig } from '../request.ts';

/** What the keyring handlers need. */
export interface KeyringDeps {
  /** Null without a gossip pool. */
  keyring: () => GossipKeyring | null;
  /** The WAN pool's keyring on a server in one (null otherwise). */
  wanKeyring?: () => GossipKeyring | null;
  datacenter: string;
  reqCfg: RequestConfig;
}

/** Consul's KeyringResponse for the LAN pool (or the WAN pool with `wan`). */
export function keyringResponse(dc: string, r: KeyringReport, wan = false): Record<string, unknown> {
  return {
    WAN: wan, Datacenter: dc, Segment: '', Partition: '', Keys: r.keys, PrimaryKeys: r.primaryKeys,
    NumNodes: r.numNodes, Messages: r.messages,
  };
}

function localReport(list: KeyList): KeyringReport {
  return {
    numNodes: 1, numResp: 1, numErr: 0, messages: {}, nodes: {},
    keys: Object.fromEntries(list.keys.map((k) => [k, 1])), primaryKeys: { [list.primary]: 1 },
  };
}

// Consul's keyringErrorsOrNil: "WAN error: …" / "<dc> (LAN) error: …", each followed by its nodes' messages.
function errorsOf(dc: string, reports: Array<{ r: KeyringReport; wan: boolean }>): string | null {
  const errs: string[] = [];
  for (const { r, wan } of reports) {
    if (r.numErr === 0) continue;
    errs.push(`${wan ? 'WAN' : `${dc} (LAN)`} error: ${r.numErr}/${r.numNodes} nodes reported failure`, ...Object.entries(r.messages).map(([n, m]) => `${n}: ${m}`));
  }
  if (errs.length === 0) return null;
  return `${errs.length} error${errs.length === 1 ? '' : 's'} occurred:\n${errs.map((e) => `\t* ${e}`).join('\n')}\n\n`;
}

function readOptions(req: HttpRequest): { localOnly: boolean } {
  const relay = req.query.get('relay-factor');
  if (relay) {
    if (!/^-?\d+$/.test(relay)) throw new BadRequestError(`Error parsing relay factor: strconv.Atoi: parsing ${JSON.stringify(relay)}: invalid syntax`);
    const n = Number(relay);
    if (n < 0 || n > 5) throw new BadRequestError('Invalid relay-factor: Relay factor must be in range: [0, 5]');
  }
  const local = req.query.get('local-only');
  const localOnly = local === 'true' || local === '1';
  if (localOnly && req.method !== 'GET') throw new BadRequestError('local-only can only be set for GET requests');
  return { localOnly };
}

async function keyOf(req: HttpRequest): Promise<string> {
  const raw = parseJSON(await req.body()) ?? {};
  refuseUnknownFields(raw, KEYRING_ARGS);
  const body = canonical(raw, ['Key']);
  return typeof body.Key === 'string' ? body.Key : '';
}

/** Handlers for the keyring routes. */
export function keyringHandlers(deps: KeyringDeps) {
  const ring = (): GossipKeyring => {
    const k = deps.keyring();
    if (!k) throw new InternalError('Gossip encryption is not enabled');
    return k;
  };
  // The WAN pool counts only when it exists and is encrypted.
  const wanRing = (): GossipKeyring | null => {
    const k = deps.wanKeyring?.();
    return k?.local() ? k : null;
  };
  const run = async (req: HttpRequest, op: 'install' | 'use' | 'remove'): Promise<HttpResult> => {
    readOptions(req);
    authorize(authzOf(req, deps.reqCfg), 'keyringWrite');
    const key = await keyOf(req);
    const reports: Array<{ r: KeyringReport; wan: boolean }> = [];
    try {
      const lan = ring();
      const wan = wanRing();
      if (wan) reports.push({ r: await wan[op](key), wan: true });
      reports.push({ r: await lan[op](key), wan: false });
    } catch (err) {
      throw new InternalError((err as Error).message);
    }
    const errors = errorsOf(deps.datacenter, reports);
    if (errors) throw new InternalError(errors);
    return {};
  };
  return {
    async list(req: HttpRequest): Promise<HttpResult> {
      const { localOnly } = readOptions(req);
      authorize(authzOf(req, deps.reqCfg), 'keyringRead');
      const k = ring();
      const local = k.local();
      if (!local) throw new InternalError('Gossip encryption is not enabled');
      const report = localOnly ? localReport(local) : await k.list();
      // local-only stays on this agent's LAN keyring (no WAN traffic).
      const wan = localOnly ? null : wanRing();
      const wanReport = wan ? await wan.list() : null;
      const errors = errorsOf(deps.datacenter, [...(wanReport ? [{ r: wanReport, wan: true }] : []), { r: report, wan: false }]);
      if (errors) throw new InternalError(errors);
      return { body: [...(wanReport ? [keyringResponse(deps.datacenter, wanReport, true)] : []), keyringResponse(deps.datacenter, report)] };
    },
    install: (req: HttpRequest) => run(req, 'install'),
    use: (req: HttpRequest) => run(req, 'use'),
    remove: (req: HttpRequest) => run(req, 'remove'),
  };
}
