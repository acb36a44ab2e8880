// SWIM failure detection: probe one member per interval in shuffled round-robin order, ask
// k peers to probe indirectly when the direct ack is late, and suspect the member when no ack
// arrives before the (awareness-scaled) interval ends. Lifeguard nacks feed local awareness.
// Direct acks carry the target's network coordinate; their round trip feeds our Vivaldi client.
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Address } from './address.ts';
import type { Awareness } from './awareness.ts';
import type { ResolvedConfig } from './config.ts';
import type { Member } from './member.ts';
import type { Membership } from './membership.ts';
import type { AckMsg, IndirectPingMsg, PacketMsg, PingMsg } from './messages.ts';
import type { PingCoordinates } from './ping-coordinates.ts';
import type { GossipStatsHooks } from './stats.ts';
import { shuffle } from '../shuffle.ts';
import { pickRandom } from './random.ts';
import type { Wire } from './wire.ts';

/** What the prober needs. */
export interface ProberDeps {
  config: ResolvedConfig;
  clock: Clock;
  log: Logger;
  random: () => number;
  membership: Membership;
  wire: Wire;
  awareness: Awareness;
  /** Network coordinates (absent when disabled). */
  coordinates?: PingCoordinates;
  /** Monotonic milliseconds for round-trip times (default: clock.now). */
  rttClock?: () => number;
  /** Times each probe (memberlist's probeNode); absent: not timed. */
  stats?: Pick<GossipStatsHooks, 'probeNode' | 'degradedProbe'>;
}

interface Pending {
  ack: (msg: AckMsg) => void;
  nack: () => void;
}

/** The probe loop and the ping/ack protocol. */
export class Prober {
  readonly #d: ProberDeps;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #order: string[] = [];
  #busy = false;
  /** A tick came while a probe was still running: the next probe starts as soon as it ends. */
  #missedTick = false;
  #timers = new Set<TimerHandle>();

  constructor(deps: ProberDeps) {
    this.#d = deps;
  }

  /** Probes the next member, unless the previous probe is still running. */
  tick(): void {
    // Like Go's ticker in memberlist, one tick is kept for later: a failed probe ends exactly
    // when the next tick is due, and dropping that tick would make each failed probe cost two
    // probe intervals.
    if (this.#busy) {
      this.#missedTick = true;
      return;
    }
    const target = this.#next();
    if (target) this.#probe(target);
  }

  /** Handles ping, indirect ping, ack and nack messages. */
  handle(msg: PacketMsg, from: Address): void {
    if (msg.t === 'ping') this.#onPing(msg, from);
    else if (msg.t === 'ireq') this.#onIndirect(msg, from);
    else if (msg.t === 'ack') this.#pending.get(msg.seq)?.ack(msg);
    else if (msg.t === 'nack') this.#pending.get(msg.seq)?.nack();
  }

  /** Cancels outstanding probes. */
  stop(): void {
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    this.#pending.clear();
    this.#busy = false;
    this.#missedTick = false;
  }

  #next(): Member | undefined {
    const ms = this.#d.membership;
    for (let tries = 0; tries < 2; tries++) {
      while (this.#order.length > 0) {
        const m = ms.members.get(this.#order.shift()!);
        if (m && (m.state === 'alive' || m.state === 'suspect')) return m;
      }
      const names = [...ms.members.values()]
        .filter((m) => m.name !== ms.name && (m.state === 'alive' || m.state === 'suspect'))
        .map((m) => m.name);
      this.#order = shuffle(names, this.#d.random);
    }
    return undefined;
  }

  #probe(target: Member): void {
    const { config, awareness, membership, wire } = this.#d;
    const seq = ++this.#seq;
    const addr = { host: target.addr, port: target.port };
    let nacks = 0;
    let expectedNacks = 0;
    const timers: TimerHandle[] = [];
    this.#busy = true;
    const stats = this.#d.stats;
    const started = stats ? performance.now() : 0;
    const finish = (acked: boolean) => {
      if (stats) {
        const t = performance.now();
        stats.probeNode(t - started, t);
      }
      this.#pending.delete(seq);
      this.#busy = false;
      for (const t of timers) { t.cancel(); this.#timers.delete(t); }
      if (acked) {
        awareness.apply(-1);
      } else {
        // With nack-capable relays, only their silence counts against us; otherwise any failure does.
        awareness.apply(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
        const cur = membership.members.get(target.name);
        if (cur && (cur.state === 'alive' || cur.state === 'suspect')) {
          this.#d.log.info({ node: cur.name, nacks, expectedNacks, health: awareness.score }, 'suspect member has failed, no acks received');
          membership.probeFailed(cur.name);
        }
      }
      if (this.#missedTick) {
        this.#missedTick = false;
        this.tick();
      }
    };
    const sent = this.#rttNow();
    const ack = (msg: AckMsg) => {
      if (msg.c) this.#d.coordinates?.observe(target.name, this.#rttNow() - sent, msg.c);
      finish(true);
    };
    this.#pending.set(seq, { ack, nack: () => { nacks++; } });
    const ping: PingMsg = { t: 'ping', seq, node: target.name, from: membership.name };
    // A member we suspect gets the suspicion with the ping, so that it can refute at once.
    wire.send(addr, target.state === 'suspect'
      ? [ping, { t: 'suspect', node: target.name, inc: target.incarnation, from: membership.name }]
      : [ping]);
    // Local health stretches the whole probe (more time for indirect acks and nacks), not the
    // wait for the direct ack: waiting longer would not get a UDP packet through (memberlist).
    const timeout = config.probeTimeoutMs;
    const deadline = awareness.scale(config.probeIntervalMs);
    if (deadline > config.probeIntervalMs) stats?.degradedProbe();
    timers.push(this.#timer(timeout, () => {
      expectedNacks = this.#askIndirect(target, seq);
      timers.push(this.#timer(Math.max(1, deadline - timeout), () => finish(false)));
    }));
  }

  #askIndirect(target: Member, seq: number): number {
    const { config, membership, wire, random } = this.#d;
    const peers = pickRandom([...membership.members.values()], config.indirectChecks, random,
      (m) => m.state === 'alive' && m.name !== membership.name && m.name !== target.name);
    const req: IndirectPingMsg = {
      t: 'ireq', seq, node: target.name, host: target.addr, port: target.port, from: membership.name, nack: true,
    };
    for (const p of peers) wire.send({ host: p.addr, port: p.port }, [req]);
    return peers.length;
  }

  #onPing(msg: PingMsg, from: Address): void {
    if (msg.node !== this.#d.membership.name) return;
    const c = this.#d.coordinates?.payload();
    this.#d.wire.send(from, [c ? { t: 'ack', seq: msg.seq, c } : { t: 'ack', seq: msg.seq }]);
  }

  // Relays a probe; the nack goes out when our own probe timeout passes, as memberlist's. With
  // the default timings it reaches the prober just after its interval ended, so a failed probe
  // still raises the prober's health score; that keeps a lossy network from causing false
  // failures (at 20% loss in the simulation, nacks in time gave several times as many).
  #onIndirect(msg: IndirectPingMsg, from: Address): void {
    const { wire, config, membership } = this.#d;
    const seq = ++this.#seq;
    const timer = this.#timer(config.probeTimeoutMs, () => {
      this.#pending.delete(seq);
      if (msg.nack) wire.send(from, [{ t: 'nack', seq: msg.seq }]);
    });
    this.#pending.set(seq, {
      ack: () => {
        this.#pending.delete(seq);
        timer.cancel();
        this.#timers.delete(timer);
        wire.send(from, [{ t: 'ack', seq: msg.seq }]);
      },
      nack: () => {},
    });
    wire.send({ host: msg.host, port: msg.port }, [{ t: 'ping', seq, node: msg.node, from: membership.name }]);
  }

  #rttNow(): number {
    return this.#d.rttClock ? this.#d.rttClock() : this.#d.clock.now();
  }

  #timer(ms: number, fn: () => void): TimerHandle {
    const t = this.#d.clock.setTimer(ms, () => {
      this.#timers.delete(t);
      fn();
    });
    this.#timers.add(t);
    return t;
  }
}
