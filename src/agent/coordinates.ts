// The agent's side of network coordinates: the settings Consul reads (disable_coordinates,
// sync_coordinate_rate_target/interval_min, consul.coordinate.*), the loop that sends this
// agent's LAN coordinate to the servers, and the per-datacenter server view for
// /v1/coordinate/datacenters for agents without a WAN pool (this datacenter only).
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { durationSetting } from '../duration.ts';
import type { CoordinateDatacenterMap, CoordinateEntry } from '../api/coordinate-types.ts';
import { COORDINATE_BATCHING, type CoordinateBatching, type CoordinateEndpoint } from '../endpoint/coordinate.ts';
import type { AclIdentity } from '../endpoint/index.ts';
import type { Replica } from '../state/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { LanPool } from './lan-pool.ts';

/** Coordinate settings from the merged configuration. */
export interface CoordinateSettings {
  disabled: boolean;
  /** Cluster-wide coordinate updates per second the agents aim for. */
  rateTarget: number;
  /** Shortest interval between this agent's updates. */
  intervalMinMs: number;
  batching: CoordinateBatching;
}

/** Reads the coordinate settings (Consul's defaults where the config has none). */
export function coordinateSettings(c: RuntimeConfig): CoordinateSettings {
  const raw = c.raw;
  const consul = (raw.consul as Record<string, Record<string, unknown>> | undefined)?.coordinate ?? {};
  return {
    disabled: raw.disable_coordinates === true,
    rateTarget: typeof raw.sync_coordinate_rate_target === 'number' ? raw.sync_coordinate_rate_target : 64,
    intervalMinMs: durationSetting(raw.sync_coordinate_interval_min, 15_000),
    batching: {
      updatePeriodMs: durationSetting(consul.update_period, c.dev ? 100 : COORDINATE_BATCHING.updatePeriodMs),
      batchSize: typeof consul.update_batch_size === 'number' ? consul.update_batch_size : COORDINATE_BATCHING.batchSize,
      maxBatches: typeof consul.update_max_batches === 'number' ? consul.update_max_batches : COORDINATE_BATCHING.maxBatches,
    },
  };
}

/** Consul's lib.RateScaledInterval: n agents sharing `rate` updates per second, never under `minMs`. */
export function rateScaledInterval(rate: number, minMs: number, n: number): number {
  if (rate <= 0) return minMs;
  return Math.max(minMs, (1000 * n) / rate);
}

/** What the sender needs. */
export interface CoordinateSyncDeps {
  pool: LanPool;
  /** Where updates go: the endpoint on a server, a forwarding stand-in on a client agent. */
  endpoint: Pick<CoordinateEndpoint, 'update'>;
  settings: CoordinateSettings;
  nodeName: string;
  clock: Clock;
  random: () => number;
  logger: Logger;
  /** The identity updates are sent under (the agent token with ACLs on; undefined otherwise). */
  authz: () => AclIdentity | undefined;
}

/** Periodically sends this agent's coordinate (Consul's agent.sendCoordinate). */
export class CoordinateSync {
  readonly #d: CoordinateSyncDeps;
  #timer: TimerHandle | null = null;
  #stopped = false;

  constructor(deps: CoordinateSyncDeps) {
    this.#d = deps;
  }

  /** Starts the loop (nothing to send without a gossip pool or with coordinates disabled). */
  start(): void {
    if (this.#d.settings.disabled || !this.#d.pool.gossip?.coordinates) return;
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops the loop. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
  }

  /** Sends the current coordinate once. */
  sendNow(): void {
    const coord = this.#d.pool.gossip?.coordinates?.local();
    if (!coord) return;
    try {
      this.#d.endpoint.update({ Node: this.#d.nodeName, Segment: '', Coord: coord }, this.#d.authz());
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code === 'permission_denied') this.#d.logger.warn({}, 'Coordinate update blocked by ACLs');
      else this.#d.logger.error({ error: e.message }, 'Coordinate update error');
    }
  }

  // The interval grows with the pool so the whole cluster stays near the rate target, plus a
  // random stagger of up to one interval so agents do not send in lockstep.
  #schedule(): void {
    if (this.#stopped) return;
    const { rateTarget, intervalMinMs } = this.#d.settings;
    const base = rateScaledInterval(rateTarget, intervalMinMs, this.#d.pool.members().length);
    this.#timer = this.#d.clock.setTimer(base + this.#d.random() * base, () => {
      this.sendNow();
      this.#schedule();
    });
  }
}

/** `/v1/coordinate/datacenters`: the alive servers of this datacenter with their coordinates. */
export function datacenterCoordinates(pool: LanPool, replica: Replica, datacenter: string): CoordinateDatacenterMap[] {
  const coordinates: CoordinateEntry[] = [];
  for (const m of pool.members()) {
    if (m.tags.role !== 'consul' || m.state !== 'alive' || (m.tags.dc && m.tags.dc !== datacenter)) continue;
    const coord = pool.gossip?.coordinates?.cached(m.name) ?? replica.coordinates.set(m.name).get('');
    if (coord) coordinates.push({ Node: m.name, Segment: '', Coord: coord });
  }
  coordinates.sort((a, b) => (a.Node < b.Node ? -1 : a.Node > b.Node ? 1 : 0));
  return [{ Datacenter: datacenter, AreaID: 'wan', Coordinates: coordinates }];
}
