// Peering stream status shared by the servers of a datacenter. A stream lives on one server (the
// leader dials; any server may accept), and its tracker is in memory: other servers of the same
// store would answer PENDING/ESTABLISHING. So the holder publishes a small record per peering
// (`peeringstatus/<id>/<node>`): at once when the stream connects or disconnects or the services
// either way change, and its message times at most once per refresh period (a minute), never
// per heartbeat. Reads take this server's tracker while it holds the stream, else the freshest
// record; a record whose holder no longer holds the server lease it was written under (the
// holder died or was removed) speaks for a stream that is gone, and is answered as a failure.
import type { TimerHandle } from '../clock.ts';
import { encodeRecord, peeringStatusKey, peeringStoreKey, type PeeringStatusRecord } from '../state/index.ts';
import type { Op } from '../store/index.ts';
import type { EndpointDeps } from './deps.ts';
import type { PeeringTracker, StreamState } from './peering-tracker.ts';

/** How often a held stream's message times are published at most (and a changed lease re-published). */
export const STATUS_REFRESH_MS = 60_000;

/** Who this server is and whether another is alive (the election's server records). */
export interface StatusHolders {
  /** This server's node name and current server lease (0 before it registered). */
  self(): { Node: string; Lease: number };
  /** True while `node` is registered under `lease`. */
  live(node: string, lease: number): boolean;
}

/** The state a record speaks for: a dead holder's connected stream is a failed one. */
export function recordState(r: PeeringStatusRecord, live: boolean): StreamState {
  const gone = r.Connected && !live;
  return {
    connected: r.Connected && live, open: 0,
    disconnectError: gone ? `the server holding the peering stream (${r.Node}) is gone` : r.DisconnectError,
    since: r.Since, lastHeartbeat: r.LastHeartbeat, lastReceive: r.LastReceive, lastSend: r.LastSend,
    imported: r.Imported ?? [], exported: r.Exported ?? [],
  };
}

/** Publishes this server's tracked streams and merges other servers' records into reads. */
export class PeeringStatusSync {
  readonly #deps: EndpointDeps;
  readonly #tracker: PeeringTracker;
  readonly #holders: StatusHolders;
  readonly #refreshMs: number;
  readonly #dirty = new Set<string>();
  /** The last record written per peering, as JSON. */
  readonly #written = new Map<string, string>();
  /** What the last immediate publication per peering said (connected, services), queued or written. */
  readonly #told = new Map<string, string>();
  #flushing = false;
  #timer: TimerHandle | null = null;

  constructor(deps: EndpointDeps, tracker: PeeringTracker, holders: StatusHolders, refreshMs = STATUS_REFRESH_MS) {
    this.#deps = deps;
    this.#tracker = tracker;
    this.#holders = holders;
    this.#refreshMs = refreshMs;
    tracker.onChange = (id) => this.#changed(id);
  }

  /**
   * The stream state to answer for a peering: this server's while it holds the stream connected,
   * else a live holder's connected record, else the latest connect or disconnect known.
   */
  state(id: string): StreamState | undefined {
    const local = this.#tracker.get(id);
    if (local?.connected) return local;
    const self = this.#holders.self().Node;
    let best = local;
    for (const r of this.#deps.replica.peeringStatus.ofPeering(id)) {
      if (local && r.Node === self) continue;
      const s = recordState(r, this.#holders.live(r.Node, r.Lease));
      const better = !best || (s.connected && !best.connected) || (s.connected === best.connected && s.since > best.since);
      if (better) best = s;
    }
    return best;
  }

  /** Forgets what was written for a removed peering (its records go with it). */
  forget(id: string): void {
    this.#written.delete(id);
    this.#told.delete(id);
    this.#dirty.delete(id);
  }

  /** The record this server would publish for a peering now. */
  #record(id: string): PeeringStatusRecord | undefined {
    const s = this.#tracker.get(id);
    if (!s) return undefined;
    const { Node, Lease } = this.#holders.self();
    return {
      PeeringID: id, Node, Lease, Connected: s.connected, DisconnectError: s.disconnectError, Since: s.since,
      LastHeartbeat: s.lastHeartbeat, LastReceive: s.lastReceive, LastSend: s.lastSend, Imported: s.imported, Exported: s.exported,
    };
  }

  /**
   * A connect, disconnect or services change: published at once when it changes what a reader
   * concludes (connected or not, the services); a failed redial's new error waits for the refresh,
   * so an outage does not write at the redial rate.
   */
  #changed(id: string): void {
    this.#arm();
    const rec = this.#record(id);
    if (!rec) return;
    const told = JSON.stringify([rec.Connected, rec.Imported, rec.Exported]);
    if (this.#told.get(id) === told) return;
    this.#told.set(id, told);
    this.#dirty.add(id);
    void this.#flush();
  }

  /** Arms the refresh while any stream is tracked here. */
  #arm(): void {
    if (this.#timer) return;
    this.#timer = this.#deps.clock.setTimer(this.#refreshMs, () => {
      this.#timer = null;
      let held = false;
      for (const id of this.#tracker.ids()) {
        if (this.#tracker.get(id)?.connected) held = true;
        this.#dirty.add(id);
      }
      if (held) this.#arm();
      void this.#flush();
    });
  }

  /** Writes the dirty records one at a time (unchanged ones skipped); failures are retried by the next refresh. */
  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#dirty.size > 0) {
        const [id] = this.#dirty;
        this.#dirty.delete(id);
        const rec = this.#record(id);
        if (!rec) continue;
        const json = JSON.stringify(rec);
        if (json === this.#written.get(id)) continue;
        // Only while the peering exists: a record must not outlive its peering's removal.
        const put: Op = { type: 'put', key: peeringStatusKey(id, rec.Node), value: encodeRecord(rec) };
        // A partition's peering is stored under its tenant prefix.
        const key = peeringStoreKey(id, this.#deps.replica.peerings.get(id)?.Partition);
        try {
          const res = await this.#deps.store.txn({ compares: [{ key, target: 'createRevision', op: '>', value: 0 }], success: [put] });
          if (res.succeeded) this.#written.set(id, json);
        } catch (err) {
          this.#deps.logger.debug({ err, peering: id }, 'peering stream status not published');
          this.#arm();
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
