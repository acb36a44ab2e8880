// The peering stream tracker (Consul's peerstream.Tracker): what this server knows of each
// peering's stream, in memory only: connected or not, the last error, when messages were last
// sent and received, and which services went each way. Reads reconcile a peering's stored state
// with it (ACTIVE while connected, FAILING after a disconnect with an error), merged with what
// other servers published of the streams they hold (peering-status.ts).
import type { Clock } from '../clock.ts';
import type { PeeringStreamStatus } from '../api/peering.ts';
import { goTime } from '../connect/ca-root.ts';

/** The tracked status of one peering's stream. */
export interface StreamState {
  connected: boolean;
  /** Streams open now: a reconnect may open the next before the last has closed. */
  open: number;
  disconnectError: string;
  /** When the stream last connected or disconnected (0: never). */
  since: number;
  lastHeartbeat: number | null;
  lastReceive: number | null;
  lastSend: number | null;
  imported: string[];
  exported: string[];
}

/** Stream status by peering ID. */
export class PeeringTracker {
  readonly #clock: Clock;
  readonly #streams = new Map<string, StreamState>();
  /**
   * Called after a connect, a disconnect or a change of the services either way, not for message
   * times (reads that block on peerings do not see tracker changes; this is for observers).
   */
  onChange: (id: string) => void = () => {};

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  #state(id: string): StreamState {
    let s = this.#streams.get(id);
    if (!s) {
      s = { connected: false, open: 0, disconnectError: '', since: 0, lastHeartbeat: null, lastReceive: null, lastSend: null, imported: [], exported: [] };
      this.#streams.set(id, s);
    }
    return s;
  }

  /** The tracked state, if any. */
  get(id: string): StreamState | undefined {
    return this.#streams.get(id);
  }

  /** A stream for the peering opened. */
  connected(id: string): void {
    const s = this.#state(id);
    s.open++;
    s.connected = true;
    s.disconnectError = '';
    s.since = this.#clock.now();
    this.onChange(id);
  }

  /**
   * A stream closed (or a dial failed, when none was open); `error` says why ('' for an orderly
   * close). The peering stays connected while another of its streams is open.
   */
  disconnected(id: string, error: string): void {
    const s = this.#state(id);
    if (s.open > 0) s.open--;
    if (s.open > 0) return;
    s.connected = false;
    s.disconnectError = error;
    s.since = this.#clock.now();
    this.onChange(id);
  }

  /** A message arrived (a heartbeat when `heartbeat`). */
  received(id: string, heartbeat: boolean): void {
    const s = this.#state(id);
    const now = this.#clock.now();
    s.lastReceive = now;
    if (heartbeat) s.lastHeartbeat = now;
  }

  /** A message was sent. */
  sent(id: string): void {
    this.#state(id).lastSend = this.#clock.now();
  }

  /** The services the peer exports to us, as last received. */
  setImported(id: string, names: string[]): void {
    const s = this.#state(id);
    const next = [...names].sort();
    if (next.join('\n') === s.imported.join('\n')) return;
    s.imported = next;
    this.onChange(id);
  }

  /** The services we export to the peer, as last sent. */
  setExported(id: string, names: string[]): void {
    const s = this.#state(id);
    const next = [...names].sort();
    if (next.join('\n') === s.exported.join('\n')) return;
    s.exported = next;
    this.onChange(id);
  }

  /** Forgets a peering (deleted). */
  forget(id: string): void {
    this.#streams.delete(id);
  }

  /** Every tracked peering ID. */
  ids(): string[] {
    return [...this.#streams.keys()];
  }

  /** Consul's StreamStatus of a peering: null lists and times when nothing was tracked. */
  status(id: string): PeeringStreamStatus {
    return streamStatus(this.#streams.get(id));
  }
}

/** Consul's StreamStatus of a tracked state: null lists and times when nothing was tracked. */
export function streamStatus(s: StreamState | undefined): PeeringStreamStatus {
  const t = (ms: number | null) => (ms === null ? null : goTime(new Date(ms)));
  if (!s) return { ImportedServices: null, ExportedServices: null, LastHeartbeat: null, LastReceive: null, LastSend: null };
  return {
    ImportedServices: s.imported.length ? s.imported : null,
    ExportedServices: s.exported.length ? s.exported : null,
    LastHeartbeat: t(s.lastHeartbeat), LastReceive: t(s.lastReceive), LastSend: t(s.lastSend),
  };
}
