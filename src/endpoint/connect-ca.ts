// The Connect CA endpoint: the roots list (with blocking on the roots table) and the trust domain
// derived from the cluster id; the CA configuration (Consul's ConnectCA.ConfigurationGet/Set),
// checked by the one common-settings check the agent's start-up and the leader also use; new key
// material rotates the root through the leader's CA rotation (leader/ca-rotation.ts, injected).
import { isDeepStrictEqual } from 'node:util';
import {
  agentCAConfiguration, CAConfigError, caSettings, parseCommonCAConfig, rootsResponse,
  type CAConfiguration, type CARoot, type CARootList, type CASettings, type CommonCAConfig,
} from '../connect/index.ts';
import { BadRequestError, InternalError } from '../errors.ts';
import { encodeRecord, type CAConfigRecord } from '../state/index.ts';
import { authorize } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { blockingQuery, consistentRead, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';

/** Store key of the CA configuration record. */
export const CA_CONFIG_KEY = 'ca/config/current';
const CA_CONFIG_ID = 'current';
/** Consul's ErrConnectNotEnabled text (a 500 on these routes). */
const CONNECT_NOT_ENABLED = 'Connect must be enabled in order to use this endpoint';
const KNOWN_PROVIDERS = ['consul', 'vault', 'aws-pca'];
/** Consul's caStateError while UpdateConfiguration runs. */
const CA_RECONFIGURING = 'CA is already in state "RECONFIGURING"';

/** The server settings the CA configuration is answered by. */
export interface ConnectCASettings {
  connectEnabled: boolean;
  /** The agent's connect stanza (what the first leader stores as the configuration). */
  agent: { caProvider: string; caConfig: Record<string, unknown> };
  /** Makes the CA root when there is none yet (the leader's CA initialization), after a configuration is stored. */
  initialize?(): Promise<void>;
  /**
   * Stores `config` (replacing the configuration at `configIndex`) together with a new active root
   * it describes, cross-signed by the current one (the leader's CA rotation, leader/ca-rotation.ts).
   */
  rotate?(args: { config: CAConfigRecord; configIndex: number; settings: CommonCAConfig }): Promise<void>;
}

/** The body of PUT /v1/connect/ca/configuration. */
export interface CAConfigurationUpdate {
  Provider: string;
  Config: Record<string, unknown>;
  State: Record<string, string> | null;
  ForceWithoutCrossSigning: boolean;
}

/** Connect CA reads and the CA configuration. */
export class ConnectCAEndpoint {
  readonly #deps: EndpointDeps;
  readonly #s: ConnectCASettings;
  #memo: { index: number; settings: CASettings } | undefined;
  /** A configuration change is under way on this server (Consul's CA state RECONFIGURING). */
  #reconfiguring = false;

  constructor(deps: EndpointDeps, settings: ConnectCASettings = { connectEnabled: true, agent: { caProvider: '', caConfig: {} } }) {
    this.#deps = deps;
    this.#s = settings;
  }

  /** The cluster's CA roots, as GET /v1/connect/ca/roots serves them. */
  roots(opts: QueryOptions): Promise<QueryResult<CARootList>> {
    const { caRoots, meta } = this.#deps.replica;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(caRoots.name).addTable(meta.name);
      const clusterId = meta.get('cluster')?.ClusterID ?? '';
      const roots = caRoots.all() as unknown as CARoot[];
      return { index: Math.max(caRoots.index, 1), value: rootsResponse(roots, clusterId) };
    });
  }

  /** The stored CA configuration; before the first leader stored one, the agent's. */
  current(): CAConfiguration {
    const rec = this.#deps.replica.caConfig.get(CA_CONFIG_ID);
    if (!rec) return agentCAConfiguration(this.#s.agent);
    return { Provider: rec.Provider, Config: rec.Config, State: rec.State, ForceWithoutCrossSigning: rec.ForceWithoutCrossSigning, CreateIndex: rec.CreateIndex, ModifyIndex: rec.ModifyIndex };
  }

  /** The common settings the CA works with now, or why it refuses its configuration. */
  settings(): CASettings {
    const index = this.#deps.replica.caConfig.index;
    if (this.#memo?.index !== index) {
      const c = this.current();
      this.#memo = { index, settings: caSettings(c.Provider, c.Config) };
    }
    return this.#memo.settings;
  }

  /**
   * GET /v1/connect/ca/configuration: needs Connect and operator:write, not read, as Consul has
   * since CVE-2020-28053 (the configuration can hold the CA's private key or a Vault token).
   */
  configuration(id: AclIdentity | undefined): CAConfiguration {
    if (!this.#s.connectEnabled) throw new InternalError(CONNECT_NOT_ENABLED);
    authorize(id, 'operatorWrite');
    return this.current();
  }

  /**
   * PUT /v1/connect/ca/configuration (Consul's CAManager.UpdateConfiguration): needs Connect and
   * operator:write; a configuration the provider refuses is a 500 with Consul's message.
   */
  async setConfiguration(args: CAConfigurationUpdate, id: AclIdentity | undefined): Promise<void> {
    if (!this.#s.connectEnabled) throw new InternalError(CONNECT_NOT_ENABLED);
    authorize(id, 'operatorWrite');
    // One change at a time, as Consul's CAManager state allows (another server's is a failed compare).
    if (this.#reconfiguring) throw new InternalError(CA_RECONFIGURING);
    this.#reconfiguring = true;
    try {
      await this.#update(args);
    } finally {
      this.#reconfiguring = false;
    }
  }

  /** The change itself: Consul's checks, then a rotation or the configuration alone. */
  async #update(args: CAConfigurationUpdate): Promise<void> {
    // Consul runs this on the leader's state; any server runs it here, so it first catches up with
    // every committed write: a stale replica would take a change for a no-op (and lose it) or
    // refuse it as a conflict with a write it had not seen.
    await consistentRead(this.#deps);
    const current = this.current();
    if (args.State && Object.keys(args.State).length > 0 && !isDeepStrictEqual(args.State, current.State)) {
      throw new BadRequestError('Provider State is read-only. It must be omitted or identical to the current value');
    }
    if (args.Provider === current.Provider && isDeepStrictEqual(args.Config, current.Config)) return;
    if (!KNOWN_PROVIDERS.includes(args.Provider)) throw new InternalError(`could not initialize provider: unknown CA provider ${JSON.stringify(args.Provider)}`);
    const settings = this.#check(args);
    const rec: CAConfigRecord = {
      Provider: args.Provider, Config: args.Config, State: args.Provider === current.Provider ? current.State : null,
      ForceWithoutCrossSigning: args.ForceWithoutCrossSigning,
    };
    const active = this.#deps.replica.caRoots.all().some((r) => r.Active);
    if (active && needsNewRoot(args.Config, current.Config)) {
      if (!this.#s.rotate) throw new InternalError('error configuring provider: this server cannot rotate the CA root');
      await this.#s.rotate({ config: rec, configIndex: current.ModifyIndex, settings });
      return;
    }
    const res = await this.#deps.store.txn({
      compares: [{ key: CA_CONFIG_KEY, target: 'modRevision', op: '=', value: current.ModifyIndex }],
      success: [{ type: 'put', key: CA_CONFIG_KEY, value: encodeRecord(rec) }],
    });
    if (!res.succeeded) throw new InternalError('could not atomically update roots and config');
    await this.#deps.replica.waitFor(res.revision);
    if (!this.#deps.replica.caRoots.all().some((r) => r.Active)) await this.#s.initialize?.();
  }

  /** The provider's check of a new configuration: its common settings, or Consul's refusal. */
  #check(args: CAConfigurationUpdate): CommonCAConfig {
    let common;
    try {
      common = parseCommonCAConfig(args.Provider, args.Config);
    } catch (err) {
      if (err instanceof CAConfigError) throw new InternalError(`error configuring provider: ${err.message}`);
      throw err;
    }
    if (args.Provider !== 'consul') throw new InternalError(`error configuring provider: Proconsul does not implement the ${args.Provider} CA provider`);
    return common;
  }
}

/**
 * Whether the consul provider makes a different root for `next` than for `prev`: Consul keys the
 * provider's state (its key and root) by PrivateKey, RootCert, PrivateKeyType and PrivateKeyBits,
 * with the provider's defaults for absent ones; the values already stored are no change (a GET
 * then PUT of the same configuration).
 */
export function needsNewRoot(next: Record<string, unknown>, prev: Record<string, unknown>): boolean {
  const key = (config: Record<string, unknown>, name: string): unknown => {
    const v = Object.entries(config).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    return v === undefined || v === null || v === '' ? '' : v;
  };
  if (['PrivateKey', 'RootCert'].some((n) => !isDeepStrictEqual(key(next, n), key(prev, n)))) return true;
  const a = caSettings('consul', next);
  const b = caSettings('consul', prev);
  return a.ok && b.ok && (a.config.privateKeyType !== b.config.privateKeyType || a.config.privateKeyBits !== b.config.privateKeyBits);
}
