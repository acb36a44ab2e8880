// Vivaldi network coordinates with Serf's refinements: a Euclidean vector plus a height (the
// access-link delay), an adjustment term, an error estimate, a per-peer latency filter and a
// gravity pull toward the origin. Units are seconds, as in Serf's JSON (`Vec`, `Height`, …).

/** A node's network coordinate, in Consul's JSON shape. */
export interface Coordinate {
  Vec: number[];
  Error: number;
  Adjustment: number;
  Height: number;
}

/** Tuning of the Vivaldi algorithm (Serf's coordinate.Config). */
export interface VivaldiConfig {
  dimensionality: number;
  /** Error of a fresh coordinate and the cap on it. */
  errorMax: number;
  /** How much one observation may move the error estimate. */
  ce: number;
  /** How much one observation may move the coordinate. */
  cc: number;
  /** Samples averaged into the adjustment term (0 disables it). */
  adjustmentWindowSize: number;
  /** Floor of the height, in seconds. */
  heightMin: number;
  /** RTT samples per peer whose median is used. */
  latencyFilterSize: number;
  /** Distance (seconds) at which gravity toward the origin becomes significant. */
  gravityRho: number;
}

/** Serf's defaults (Consul uses them for the LAN and WAN pools). */
export const VIVALDI_DEFAULTS: Readonly<VivaldiConfig> = Object.freeze({
  dimensionality: 8, errorMax: 1.5, ce: 0.25, cc: 0.25, adjustmentWindowSize: 20,
  heightMin: 10e-6, latencyFilterSize: 3, gravityRho: 150,
});

// Below this, a vector is treated as zero (Serf's zeroThreshold).
const ZERO = 1e-6;
// Serf rejects RTT observations outside (0, 10 s].
const MAX_RTT_SECONDS = 10;

/** A coordinate at the origin with maximal error, as a node starts. */
export function newCoordinate(cfg: VivaldiConfig = VIVALDI_DEFAULTS): Coordinate {
  return { Vec: new Array<number>(cfg.dimensionality).fill(0), Error: cfg.errorMax, Adjustment: 0, Height: cfg.heightMin };
}

/** A detached copy. */
export function cloneCoordinate(c: Coordinate): Coordinate {
  return { Vec: [...c.Vec], Error: c.Error, Adjustment: c.Adjustment, Height: c.Height };
}

/** True for a well-formed coordinate whose components are all finite numbers. */
export function coordinateValid(c: unknown): c is Coordinate {
  if (!c || typeof c !== 'object') return false;
  const v = c as Record<string, unknown>;
  const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  return Array.isArray(v.Vec) && v.Vec.every(finite) && finite(v.Error) && finite(v.Adjustment) && finite(v.Height);
}

/** True when two coordinates have the same dimensionality. */
export function coordinatesCompatible(a: Coordinate, b: Coordinate): boolean {
  return a.Vec.length === b.Vec.length;
}

/**
 * The pair of coordinates two nodes can be compared in, from their coordinates by network
 * segment (Consul's lib.CoordinateSet.Intersect).
 */
export function intersectCoordinates(a: Map<string, Coordinate>, b: Map<string, Coordinate>): [Coordinate | undefined, Coordinate | undefined] {
  // The default segment unless one side lives in a single segment: a client is in exactly one
  // and servers are in all, so the single-segment side decides (the second one wins a tie).
  let segment = '';
  if (a.size === 1) segment = [...a.keys()][0];
  if (b.size === 1) segment = [...b.keys()][0];
  return [a.get(segment), b.get(segment)];
}

function rawDistance(a: Coordinate, b: Coordinate): number {
  let sum = 0;
  for (let i = 0; i < a.Vec.length; i++) sum += (a.Vec[i] - b.Vec[i]) ** 2;
  return Math.sqrt(sum) + a.Height + b.Height;
}

/**
 * Estimated RTT between two coordinates in seconds, truncated to whole nanoseconds as Serf's
 * Duration is; the adjustment terms apply unless they would make the estimate non-positive.
 */
export function estimateRtt(a: Coordinate, b: Coordinate): number {
  if (!coordinatesCompatible(a, b)) throw new Error('coordinate dimensionality does not match');
  const dist = rawDistance(a, b);
  const adjusted = dist + a.Adjustment + b.Adjustment;
  return Math.trunc((adjusted > 0 ? adjusted : dist) * 1e9) / 1e9;
}

// The unit vector from b to a and the distance between them; coincident points get a random
// direction so that nodes starting at the origin can push each other apart.
function unitVectorAt(a: number[], b: number[], random: () => number): [number[], number] {
  const d = a.map((x, i) => x - b[i]);
  const mag = Math.hypot(...d);
  if (mag > ZERO) return [d.map((x) => x / mag), mag];
  const r = d.map(() => random() - 0.5);
  const rmag = Math.hypot(...r);
  if (rmag > ZERO) return [r.map((x) => x / rmag), 0];
  const unit = new Array<number>(a.length).fill(0);
  unit[0] = 1;
  return [unit, 0];
}

function applyForce(cfg: VivaldiConfig, random: () => number, c: Coordinate, force: number, other: Coordinate): Coordinate {
  const [unit, mag] = unitVectorAt(c.Vec, other.Vec, random);
  const out = cloneCoordinate(c);
  out.Vec = c.Vec.map((x, i) => x + unit[i] * force);
  if (mag > ZERO) out.Height = Math.max((c.Height + other.Height) * force / mag + c.Height, cfg.heightMin);
  return out;
}

/** One node's Vivaldi state, updated from RTT observations of peers (Serf's coordinate.Client). */
export class VivaldiClient {
  readonly #cfg: VivaldiConfig;
  readonly #random: () => number;
  readonly #origin: Coordinate;
  readonly #adjustments: number[];
  readonly #samples = new Map<string, number[]>();
  #coord: Coordinate;
  #adjustIndex = 0;
  /** Times the coordinate went non-finite and was reset to the origin. */
  resets = 0;

  constructor(cfg: VivaldiConfig = VIVALDI_DEFAULTS, random: () => number = Math.random) {
    if (cfg.dimensionality <= 0) throw new Error('dimensionality must be >0');
    this.#cfg = cfg;
    this.#random = random;
    this.#coord = newCoordinate(cfg);
    this.#origin = newCoordinate(cfg);
    this.#adjustments = new Array<number>(cfg.adjustmentWindowSize).fill(0);
  }

  /** A copy of the current coordinate. */
  coordinate(): Coordinate {
    return cloneCoordinate(this.#coord);
  }

  /** Replaces the coordinate (e.g. restored from a snapshot). */
  setCoordinate(c: Coordinate): void {
    this.#check(c);
    this.#coord = cloneCoordinate(c);
  }

  /** Forgets a peer's latency samples (it left or was reaped). */
  forget(node: string): void {
    this.#samples.delete(node);
  }

  /** Estimated RTT in seconds from this node to `other`. */
  distanceTo(other: Coordinate): number {
    return estimateRtt(this.#coord, other);
  }

  /**
   * Folds one observation in: `node` at coordinate `other` answered in `rttSeconds`. Returns
   * the new coordinate; throws on an incompatible or invalid coordinate or an RTT outside (0, 10 s].
   */
  update(node: string, other: Coordinate, rttSeconds: number): Coordinate {
    this.#check(other);
    if (!(rttSeconds >= 0 && rttSeconds <= MAX_RTT_SECONDS)) {
      throw new Error(`round trip time not in valid range, duration ${rttSeconds}s is not a positive value less than 10s`);
    }
    const rtt = this.#latencyFilter(node, rttSeconds);
    this.#updateVivaldi(other, rtt);
    this.#updateAdjustment(other, rtt);
    this.#updateGravity();
    if (!coordinateValid(this.#coord)) {
      this.resets++;
      this.#coord = newCoordinate(this.#cfg);
    }
    return this.coordinate();
  }

  #check(c: Coordinate): void {
    if (!coordinateValid(c)) throw new Error('coordinate is invalid');
    if (!coordinatesCompatible(this.#coord, c)) throw new Error("dimensions aren't compatible");
  }

  // The median of the last few samples from this peer damps one-off spikes.
  #latencyFilter(node: string, rtt: number): number {
    const samples = this.#samples.get(node) ?? [];
    samples.push(rtt);
    if (samples.length > this.#cfg.latencyFilterSize) samples.shift();
    this.#samples.set(node, samples);
    const sorted = [...samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  #updateVivaldi(other: Coordinate, rttIn: number): void {
    const cfg = this.#cfg;
    const rtt = Math.max(rttIn, ZERO);
    const dist = estimateRtt(this.#coord, other);
    const wrongness = Math.abs(dist - rtt) / rtt;
    const weight = this.#coord.Error / Math.max(this.#coord.Error + other.Error, ZERO);
    const error = cfg.ce * weight * wrongness + this.#coord.Error * (1 - cfg.ce * weight);
    this.#coord.Error = Math.min(error, cfg.errorMax);
    const force = cfg.cc * weight * (rtt - dist);
    this.#coord = applyForce(cfg, this.#random, this.#coord, force, other);
  }

  // The adjustment term absorbs what the Euclidean model cannot: half the mean of recent
  // (observed - modelled) differences.
  #updateAdjustment(other: Coordinate, rtt: number): void {
    const n = this.#cfg.adjustmentWindowSize;
    if (n === 0) return;
    this.#adjustments[this.#adjustIndex] = rtt - rawDistance(this.#coord, other);
    this.#adjustIndex = (this.#adjustIndex + 1) % n;
    this.#coord.Adjustment = this.#adjustments.reduce((s, x) => s + x, 0) / (2 * n);
  }

  // A weak pull toward the origin keeps the whole system from drifting away over time.
  #updateGravity(): void {
    const dist = estimateRtt(this.#origin, this.#coord);
    const force = -1 * (dist / this.#cfg.gravityRho) ** 2;
    this.#coord = applyForce(this.#cfg, this.#random, this.#coord, force, this.#origin);
  }
}
