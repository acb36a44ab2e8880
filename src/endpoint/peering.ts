// The peering endpoint (Consul's PeeringService: GenerateToken, Establish, PeeringRead/List/
// Delete, and the acceptor's side of the secret exchange and stream authentication): peerings
// and their secrets written through planned Store txns, reads reconciled with the stream tracker.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { BadRequestError, InternalError, NotFoundError, PermissionDeniedError } from '../errors.ts';
import {
  PEERINGS_TABLE, peeringSecretKey, peeringStatusKey, peerImportKey, encodeRecord, type StoredPeering, type PeeringSecrets,
  DEFAULT_TENANCY_NAME, foldTenancyName, partitionEnt, tenantKey, peeringStoreKey, storedPeering, partitionPeerImports, peeringPartition,
} from '../state/index.ts';
import type { Op } from '../store/index.ts';
import type {
  Peering, PeeringRecord, PeeringToken, PeeringGenerateTokenRequest, PeeringEstablishRequest, PeeringRemoteInfo,
} from '../api/peering.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { authorize, entContext } from './acl-enforce.ts';
import { commitPlanned, pinRecord } from './commit.ts';
import { planFreePeerVirtualIPs } from './virtual-ips.ts';
import { entPins, writablePartition } from './tenancy.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { streamStatus, type PeeringTracker, type StreamState } from './peering-tracker.ts';
import { PeeringStatusSync, type StatusHolders } from './peering-status.ts';
import { goTime } from '../connect/ca-root.ts';


const require = createRequire(import.meta.url);
/** Peering tokens' encoding and checks, loaded by the first generate or establish, not at start (issue #9). */
const tokens = () => require('./peering-token.ts') as typeof import('./peering-token.ts');
/** What the endpoint needs besides the common deps. */
export interface PeeringOptions {
  tracker: PeeringTracker;
  /**
   * The servers sharing this store: with them, the streams this server holds are published and
   * reads answer streams other servers hold; without, reads answer only this server's tracker.
   */
  holders?: StatusHolders;
  /** The agent's peering.enabled (default true): off, every operation fails as Consul's does. */
  enabled?: boolean;
  /** `host:port` where dialers reach this cluster's peer stream (the servers' HTTP listeners). */
  serverAddresses(): string[];
  /** CA PEMs dialers verify those addresses with; null for plain HTTP. */
  caPems(): string[] | null;
  /** The dialer's side of the secret exchange: the acceptor's stream secret for this establishment secret. */
  exchange(peering: PeeringRecord, establishmentSecret: string): Promise<string>;
}

/** Consul's refusal of a stream opened to the dialing end of a peering. */
export const WRONG_END = 'expected PeerID to be empty; the wrong end of peering is being dialed';

/**
 * The key a peering's name claims in its partition while the peering exists (not a replica table:
 * only compared on create); under the partition's tenant prefix outside the default partition.
 */
const nameGuardKey = (name: string, ap?: string): string => tenantKey(ap ? partitionEnt(ap) : undefined, `peeringname/${encodeURIComponent(name.toLowerCase())}`);

/** A request's partition as peerings are kept: undefined for the default one, else folded. */
export function peeringAp(partition: string | undefined): string | undefined {
  const ap = partition ? foldTenancyName(partition) : DEFAULT_TENANCY_NAME;
  return ap === DEFAULT_TENANCY_NAME ? undefined : ap;
}

/** The ACL context of a partition's peerings (none for the default partition). */
const apContext = (ap: string | undefined) => entContext(ap ? partitionEnt(ap) : undefined);

/** Store key of a stored peering (its partition from the record). */
const keyOf = (p: { ID: string; Partition?: string }): string => peeringStoreKey(p.ID, p.Partition);

/** True for a peering that dials (made by Establish): it knows its peer's server addresses. */
export function shouldDial(p: Pick<PeeringRecord, 'PeerServerAddresses' | 'ManualServerAddresses'>): boolean {
  return (p.PeerServerAddresses?.length ?? 0) > 0 || (p.ManualServerAddresses?.length ?? 0) > 0;
}

/**
 * Compares a stored secret with a presented one in constant time (digests of equal length, so
 * neither the content nor the length leaks); an absent or empty stored secret matches nothing.
 */
export function sameSecret(stored: string | undefined, presented: string): boolean {
  if (!stored) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(stored), digest(presented));
}

/** True unless the peering is terminated or marked for deletion. */
export function peeringActive(p: Pick<PeeringRecord, 'State' | 'DeletedAt'>): boolean {
  return p.State !== 'TERMINATED' && !p.DeletedAt;
}

/** Peering operations. */
export class PeeringEndpoint {
  readonly #deps: EndpointDeps;
  readonly #o: PeeringOptions;
  readonly #status: PeeringStatusSync | null;

  constructor(deps: EndpointDeps, o: PeeringOptions) {
    this.#deps = deps;
    this.#o = o;
    this.#status = o.holders ? new PeeringStatusSync(deps, o.tracker, o.holders) : null;
  }

  /**
   * Consul's refusal of every peering call while peering.enabled is false: a gRPC FailedPrecondition,
   * which Consul's HTTP layer answers as 500 (it maps only PermissionDenied, ResourceExhausted, Unavailable).
   */
  checkEnabled(): void {
    if (this.#o.enabled === false) throw new InternalError('peering must be enabled to use this endpoint');
  }

  /** The stream tracker the endpoint reconciles with. */
  get tracker(): PeeringTracker {
    return this.#o.tracker;
  }

  /** This cluster's peering server name (Consul's server.<dc>.peering.<trust domain>). */
  serverName(): string {
    const cluster = this.#deps.replica.meta.get('cluster')?.ClusterID ?? '';
    return `server.${this.#deps.config.datacenter}.peering.${cluster}.consul`;
  }

  /**
   * GenerateToken: makes (or keeps) the acceptor's peering in `partition` (absent: default) and a
   * fresh establishment secret.
   */
  async generateToken(req: PeeringGenerateTokenRequest, authz?: AclIdentity, partition?: string): Promise<{ PeeringToken: string }> {
    this.checkEnabled();
    const { encodePeeringToken, validatePeerName, validatePeeringMeta } = tokens();
    validatePeerName(req.PeerName);
    validatePeeringMeta(req.Meta);
    const ap = peeringAp(partition);
    authorize(authz, 'peeringWrite', '', apContext(ap));
    const secret = randomUUID();
    const id = await this.#write(ap, () => {
      const existing = this.#deps.replica.peerings.byName(req.PeerName, ap);
      if (existing && shouldDial(existing)) {
        throw new InternalError(`cannot create peering with name: "${existing.Name}"; there is already an established peering`);
      }
      this.#writable(existing);
      const rec: PeeringRecord = existing ?? {
        ID: this.#newId(), Name: req.PeerName, ...(ap ? { Partition: ap } : {}), ...(req.Meta && Object.keys(req.Meta).length ? { Meta: req.Meta } : {}),
        State: 'PENDING', Remote: { Partition: '', Datacenter: '' },
      };
      const cur = this.#deps.replica.peeringSecrets.get(rec.ID);
      const secrets: PeeringSecrets = { Establishment: secret, PendingStream: cur?.PendingStream, ActiveStream: cur?.ActiveStream };
      return { existing, rec, secrets };
    });
    const tok: PeeringToken = {
      CA: this.#o.caPems(), ManualServerAddresses: req.ServerExternalAddresses?.length ? req.ServerExternalAddresses : null,
      ServerAddresses: this.#o.serverAddresses(), ServerName: this.serverName(), PeerID: id, EstablishmentSecret: secret,
      Remote: { Partition: this.#partitionName(ap), Datacenter: this.#deps.config.datacenter },
    };
    return { PeeringToken: encodePeeringToken(tok) };
  }

  /**
   * Establish: records the dialer's peering in `partition` (absent: default), exchanges the secret
   * with the acceptor, then marks it ESTABLISHING.
   */
  async establish(req: PeeringEstablishRequest, authz?: AclIdentity, partition?: string): Promise<Record<string, never>> {
    this.checkEnabled();
    const { decodePeeringToken, validatePeerName, validatePeeringMeta, validatePeeringToken } = tokens();
    validatePeerName(req.PeerName);
    const tok = decodePeeringToken(req.PeeringToken);
    validatePeeringToken(tok);
    validatePeeringMeta(req.Meta);
    const ap = peeringAp(partition);
    authorize(authz, 'peeringWrite', '', apContext(ap));
    if (tok.ServerName === this.serverName()) {
      throw new InternalError(`cannot create a peering within the same cluster "${tok.ServerName}". Refer to the \`exported-services\` documentation if you want to export between partitions without peering`);
    }
    const build = (state?: 'ESTABLISHING') => () => {
      const existing = this.#deps.replica.peerings.byName(req.PeerName, ap);
      if (existing && !shouldDial(existing)) {
        throw new InternalError(`cannot create peering with name: "${existing.Name}"; there is an existing peering expecting to be dialed`);
      }
      this.#writable(existing);
      const connected = existing ? this.streamState(existing.ID)?.connected : false;
      const rec: PeeringRecord = {
        ID: existing?.ID ?? this.#newId(), Name: req.PeerName, ...(ap ? { Partition: ap } : {}),
        ...(req.Meta && Object.keys(req.Meta).length ? { Meta: req.Meta } : {}),
        State: state ?? existing?.State ?? 'PENDING', PeerID: tok.PeerID,
        ...(tok.CA?.length ? { PeerCAPems: tok.CA } : {}), PeerServerName: tok.ServerName,
        PeerServerAddresses: connected && existing?.PeerServerAddresses ? existing.PeerServerAddresses : tok.ServerAddresses ?? [],
        ...(tok.ManualServerAddresses?.length ? { ManualServerAddresses: tok.ManualServerAddresses } : {}),
        Remote: tok.Remote,
      };
      return { existing, rec, secrets: state ? { ActiveStream: streamSecret } : undefined };
    };
    let streamSecret = '';
    await this.#write(ap, build());
    const written = this.#deps.replica.peerings.byName(req.PeerName, ap)!;
    try {
      streamSecret = await this.#o.exchange(written, tok.EstablishmentSecret);
    } catch (err) {
      // A refused secret is not retried: only a new token can succeed (Consul's retryExchange).
      if (err instanceof PermissionDeniedError) throw new PermissionDeniedError(`a new peering token must be generated: ${err.message}`);
      throw err;
    }
    await this.#write(ap, build('ESTABLISHING'));
    return {};
  }

  /**
   * One peering by name in the request's partition (404 `Peering not found for "<name>"`); needs
   * peering:read. A request naming a partition gets Partition on the answer.
   */
  async read(name: string, opts: QueryOptions): Promise<QueryResult<Peering>> {
    this.checkEnabled();
    const ap = peeringAp(opts.ent?.partition);
    authorize(opts.authz, 'peeringRead', '', apContext(ap));
    const t = this.#deps.replica.peerings;
    let wasMissing = false;
    const res = await blockingQuery(this.#deps, opts, (ws): { index: number; value: Peering | null } => {
      ws.addTable(PEERINGS_TABLE);
      const p = t.byName(name, ap);
      // Missing, Consul answers at the table's index; missing again after a wake-up, it keeps
      // waiting (blockingquery's ErrNotFound), so a blocked read ends when the peering appears,
      // goes away, or the wait runs out, not on another peering's write.
      if (!p) {
        const index = wasMissing ? Math.min(t.index, opts.minIndex) : t.index;
        wasMissing = true;
        return { index, value: null };
      }
      wasMissing = false;
      // Consul answers a peering at its own ModifyIndex.
      return { index: p.ModifyIndex, value: this.toAPI(p, opts.entNamed) };
    });
    if (!res.value) throw new NotFoundError(`Peering not found for "${name}"`);
    return { ...res, value: res.value };
  }

  /** Every peering of the request's partition, in ID order as Consul's table iterates; needs peering:read. */
  list(opts: QueryOptions): Promise<QueryResult<Peering[]>> {
    this.checkEnabled();
    const ap = peeringAp(opts.ent?.partition);
    authorize(opts.authz, 'peeringRead', '', apContext(ap));
    const t = this.#deps.replica.peerings;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(PEERINGS_TABLE);
      const all = t.list(ap).sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
      return { index: t.index, value: all.map((p) => this.toAPI(p, opts.entNamed)) };
    });
  }

  /** Marks a peering for deletion (DELETING, DeletedAt); the leader then removes it and its imports. */
  async delete(name: string, authz?: AclIdentity, partition?: string): Promise<void> {
    this.checkEnabled();
    const ap = peeringAp(partition);
    authorize(authz, 'peeringWrite', '', apContext(ap));
    await commitPlanned(this.#deps, () => {
      const existing = this.#deps.replica.peerings.byName(name, ap);
      if (!existing || existing.State === 'DELETING') return { answer: undefined };
      const rec = { ...storedPeering(existing), State: 'DELETING', DeletedAt: goTime(new Date(this.#deps.clock.now())) };
      // The secrets stay until the leader removes the peering: a dialer still tells its acceptor.
      const ops: Op[] = [{ type: 'put', key: keyOf(existing), value: encodeRecord(rec) }];
      return { txn: { compares: [pinRecord(keyOf(existing), existing)], success: ops }, done: () => undefined };
    });
  }

  /** Removes a peering marked for deletion, with the services imported from it (the leader's duty). */
  async remove(id: string): Promise<void> {
    await commitPlanned(this.#deps, () => {
      const p = this.#deps.replica.peerings.get(id);
      if (!p || peeringActive(p)) return { answer: undefined };
      // Its imports in every namespace of its partition.
      const ops: Op[] = partitionPeerImports(this.#deps.replica, peeringPartition(p))
        .flatMap(({ ent, table }) => table.ofPeer(p.Name).map((r): Op => ({ type: 'delete', key: tenantKey(ent, peerImportKey(p.Name, r.Service)) })));
      ops.push({ type: 'delete', key: keyOf(p) }, { type: 'delete', key: peeringSecretKey(id) }, { type: 'delete', key: nameGuardKey(p.Name, p.Partition) });
      for (const r of this.#deps.replica.peeringStatus.ofPeering(id)) ops.push({ type: 'delete', key: peeringStatusKey(id, r.Node) });
      // The VIPs of its imported services are freed with them.
      const vips = { compares: [pinRecord(keyOf(p), p)], ops };
      planFreePeerVirtualIPs(this.#deps, vips, p.Name, peeringPartition(p));
      return { txn: { compares: vips.compares, success: ops }, done: () => undefined };
    });
    this.#o.tracker.forget(id);
    this.#status?.forget(id);
  }

  /** The acceptor's ExchangeSecret: a valid establishment secret is spent for a pending stream secret. */
  async exchangeSecret(peerId: string, establishmentSecret: string): Promise<string> {
    this.checkEnabled();
    const stream = randomUUID();
    await commitPlanned(this.#deps, () => {
      const { peerings, peeringSecrets } = this.#deps.replica;
      const p = peerings.get(peerId);
      const cur = peeringSecrets.get(peerId);
      // Unknown, spent or wrong are one answer, as Consul's ExchangeSecret gives (no hint which).
      if (!p || !peeringActive(p) || !cur || !sameSecret(cur.Establishment, establishmentSecret)) {
        throw new PermissionDeniedError('invalid peering establishment secret');
      }
      const next: PeeringSecrets = { PendingStream: stream, ActiveStream: cur.ActiveStream };
      return {
        txn: { compares: [pinRecord(peeringSecretKey(peerId), cur)], success: [{ type: 'put', key: peeringSecretKey(peerId), value: encodeRecord(next) }] },
        done: () => undefined,
      };
    });
    return stream;
  }

  /**
   * The acceptor's check of a stream's credentials: the peering it names, with a pending secret
   * promoted to active on first use, and the dialer's whereabouts recorded.
   */
  async openStream(peerId: string, secret: string, remote: PeeringRemoteInfo): Promise<StoredPeering> {
    this.checkEnabled();
    await commitPlanned(this.#deps, () => {
      const { peerings, peeringSecrets } = this.#deps.replica;
      const p = peerings.get(peerId);
      if (!p) throw new NotFoundError('peering not found');
      if (!peeringActive(p)) return { answer: undefined };
      const cur = peeringSecrets.get(peerId);
      const pending = !sameSecret(cur?.ActiveStream, secret) && sameSecret(cur?.PendingStream, secret);
      if (!cur || (!pending && !sameSecret(cur.ActiveStream, secret))) throw new PermissionDeniedError('invalid peering stream secret');
      // The dialing end holds the same stream secret; it accepts no stream (Consul refuses so).
      if (shouldDial(p)) throw new BadRequestError(WRONG_END);
      const ops: Op[] = [];
      if (pending) {
        ops.push({ type: 'put', key: peeringSecretKey(peerId), value: encodeRecord({ Establishment: cur.Establishment, ActiveStream: secret }) });
      }
      if (p.Remote.Datacenter !== remote.Datacenter || p.Remote.Partition !== remote.Partition) {
        ops.push({ type: 'put', key: keyOf(p), value: encodeRecord({ ...storedPeering(p), Remote: remote }) });
      }
      if (ops.length === 0) return { answer: undefined };
      return { txn: { compares: [pinRecord(keyOf(p), p), pinRecord(peeringSecretKey(peerId), cur)], success: ops }, done: () => undefined };
    });
    return this.#deps.replica.peerings.get(peerId)!;
  }

  /** Marks a peering TERMINATED (its peer deleted its end); its secrets go. */
  async terminate(id: string): Promise<void> {
    await commitPlanned(this.#deps, () => {
      const p = this.#deps.replica.peerings.get(id);
      if (!p || !peeringActive(p)) return { answer: undefined };
      const ops: Op[] = [{ type: 'put', key: keyOf(p), value: encodeRecord({ ...storedPeering(p), State: 'TERMINATED' }) }, { type: 'delete', key: peeringSecretKey(id) }];
      return { txn: { compares: [pinRecord(keyOf(p), p)], success: ops }, done: () => undefined };
    });
  }

  /** The stream state answered for a peering: this server's tracker merged with what other servers published. */
  streamState(id: string): StreamState | undefined {
    return this.#status ? this.#status.state(id) : this.#o.tracker.get(id);
  }

  /** A peering as the API answers it: stored fields, the stream status and reconciled state. */
  toAPI(p: StoredPeering, partitionNamed = false): Peering {
    const s = this.streamState(p.ID);
    let State = p.State;
    if (s && peeringActive(p)) {
      if (s.connected) State = 'ACTIVE';
      else if (s.disconnectError) State = 'FAILING';
    }
    // Consul rewrites a peering marked for deletion with only its name, addresses and remote; the
    // rest is kept here (the leader still tells the peer with it) but no longer shown.
    const shown: Partial<StoredPeering> = p.DeletedAt ? {} : p;
    return {
      ID: p.ID, Name: p.Name, ...(p.Partition || partitionNamed ? { Partition: this.#partitionName(p.Partition) } : {}), ...(p.DeletedAt ? { DeletedAt: p.DeletedAt } : {}), ...(shown.Meta ? { Meta: shown.Meta } : {}), State,
      ...(shown.PeerID ? { PeerID: shown.PeerID } : {}), ...(shown.PeerCAPems?.length ? { PeerCAPems: shown.PeerCAPems } : {}),
      ...(shown.PeerServerName ? { PeerServerName: shown.PeerServerName } : {}),
      ...(p.PeerServerAddresses?.length ? { PeerServerAddresses: p.PeerServerAddresses } : {}),
      StreamStatus: streamStatus(s), CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex, Remote: p.Remote,
    };
  }

  #newId(): string {
    let id = randomUUID();
    while (this.#deps.replica.peerings.get(id)) id = randomUUID();
    return id;
  }

  /** Consul's store refusals for a write over an existing peering. */
  #writable(existing: StoredPeering | undefined): void {
    if (existing?.State === 'DELETING') throw new InternalError('failed to write peering: cannot write to peering that is marked for deletion');
  }

  /** A partition's name as answers show it (its record's spelling; `default` for the default one). */
  #partitionName(ap: string | undefined): string {
    return ap ? this.#deps.replica.tenants.partitions.partition(ap)?.Name ?? ap : DEFAULT_TENANCY_NAME;
  }

  /**
   * Writes a planned peering of partition `ap` (and its secrets), name-unique in it; returns its ID.
   * The partition must exist and not be going away (pinned, as tenant writes are).
   */
  async #write(ap: string | undefined, plan: () => { existing: StoredPeering | undefined; rec: PeeringRecord; secrets?: PeeringSecrets }): Promise<string> {
    return commitPlanned(this.#deps, () => {
      if (ap) writablePartition(this.#deps.replica.tenants, ap);
      const { existing, rec, secrets } = plan();
      const key = peeringStoreKey(rec.ID, ap);
      const ops: Op[] = [{ type: 'put', key, value: encodeRecord(storedPeering(rec)) }];
      const compares = [pinRecord(key, existing), ...entPins(this.#deps.replica.tenants, ap ? partitionEnt(ap) : undefined)];
      if (secrets) {
        compares.push(pinRecord(peeringSecretKey(rec.ID), this.#deps.replica.peeringSecrets.get(rec.ID)));
        ops.push({ type: 'put', key: peeringSecretKey(rec.ID), value: encodeRecord(secrets) });
      }
      // Names are unique: a create also claims the name's guard key, which must not exist yet
      // (two creates of one name planned at once, here or on another server, conflict there).
      if (!existing) {
        compares.push({ key: nameGuardKey(rec.Name, ap), target: 'createRevision', op: '=', value: 0 });
        ops.push({ type: 'put', key: nameGuardKey(rec.Name, ap), value: encodeRecord({ ID: rec.ID }) });
      }
      return { txn: { compares, success: ops }, done: () => rec.ID };
    });
  }
}
