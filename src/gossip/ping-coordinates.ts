// Serf's ping delegate: our coordinate rides on every direct probe ack we send, and every
// direct ack we receive (the peer's coordinate plus the measured round trip) updates our
// Vivaldi client. Keeps the last coordinate heard from each member.
import type { Logger } from '../log.ts';
import { cloneCoordinate, coordinateValid, VivaldiClient, type Coordinate } from './coordinate.ts';

/** Our network coordinate and the ones peers last reported. */
export class PingCoordinates {
  readonly #client: VivaldiClient;
  readonly #cache = new Map<string, Coordinate>();
  readonly #self: string;
  readonly #log: Logger;
  /** Observations refused (bad coordinate or RTT), Serf's serf.coordinate.rejected. */
  rejected = 0;

  constructor(self: string, log: Logger, random: () => number) {
    this.#self = self;
    this.#log = log;
    this.#client = new VivaldiClient(undefined, random);
  }

  /** Our current coordinate (a copy). */
  local(): Coordinate {
    return this.#client.coordinate();
  }

  /** The coordinate `name` last reported in an ack (ours for our own name), or undefined. */
  cached(name: string): Coordinate | undefined {
    if (name === this.#self) return this.local();
    const c = this.#cache.get(name);
    return c && cloneCoordinate(c);
  }

  /** What we attach to a direct ack. */
  payload(): Coordinate {
    return this.#client.coordinate();
  }

  /** A direct probe of `node` came back after `rttMs` carrying its coordinate. */
  observe(node: string, rttMs: number, coord: unknown): void {
    if (!coordinateValid(coord)) {
      this.rejected++;
      this.#log.trace({ node }, 'rejected an invalid coordinate');
      return;
    }
    try {
      this.#client.update(node, coord, rttMs / 1000);
      this.#cache.set(node, cloneCoordinate(coord));
    } catch (err) {
      this.rejected++;
      this.#log.trace({ node, error: (err as Error).message }, 'rejected coordinate');
    }
  }

  /** Drops what we know of a member that left or was reaped. */
  forget(node: string): void {
    this.#client.forget(node);
    this.#cache.delete(node);
  }
}
