// The SWIM member state machine: alive / suspect / dead / left transitions by incarnation,
// Lifeguard suspicion timers, refutation of rumours about ourselves, and re-gossip of every
// accepted change (memberlist's aliveNode / suspectNode / deadNode, with Serf's events).
import { cidrMatcher } from '../cidr.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Awareness } from './awareness.ts';
import type { BroadcastQueue } from './broadcast-queue.ts';
import { suspicionTimeout, type ResolvedConfig } from './config.ts';
import type { GossipEvent, MemberEventType } from './gossip-events.ts';
import { cloneMember, type Member } from './member.ts';
import type { AliveMsg, DeadMsg, MemberWire, SuspectMsg } from './messages.ts';
import type { GossipStatsHooks } from './stats.ts';
import { Suspicion } from './suspicion.ts';

/** What the state machine needs from its owner. */
export interface MembershipDeps {
  config: ResolvedConfig;
  clock: Clock;
  log: Logger;
  queue: BroadcastQueue;
  awareness: Awareness;
  emit: (e: GossipEvent) => void;
  /** Counts applied alive, suspect and dead messages (memberlist's msg.*); absent: not counted. */
  stats?: Pick<GossipStatsHooks, 'msgAlive' | 'msgSuspect' | 'msgDead' | 'degradedTimeout'>;
}

/** The member table and its transitions. */
export class Membership {
  readonly members = new Map<string, Member>();
  readonly #suspicions = new Map<string, Suspicion>();
  /** Per member held dead: the newest incarnation at which we confirmed peers' late suspicions, and to whom. */
  readonly #answered = new Map<string, { inc: number; peers: Set<string> }>();
  readonly #d: MembershipDeps;
  readonly #allowed: ((host: string) => boolean) | null;
  readonly name: string;
  /** Set once we broadcast our own leave: rumours about us are no longer refuted. */
  leaving = false;

  constructor(deps: MembershipDeps, self: { host: string; port: number }) {
    this.#d = deps;
    this.#allowed = cidrMatcher(deps.config.allowedCidrs);
    this.name = deps.config.name;
    checkTagSize(deps.config.tags);
    const now = deps.clock.now();
    this.members.set(this.name, {
      name: this.name, addr: self.host, port: self.port, tags: { ...deps.config.tags },
      incarnation: 1, state: 'alive', stateChange: now,
    });
  }

  /** This node. */
  local(): Member {
    return this.members.get(this.name)!;
  }

  /** Members still taking part (alive or suspect), ourselves included. */
  liveCount(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.state === 'alive' || m.state === 'suspect') n++;
    return n;
  }

  /** The alive message describing ourselves now. */
  localAlive(): AliveMsg {
    const m = this.local();
    return { t: 'alive', node: m.name, host: m.addr, port: m.port, tags: { ...m.tags }, inc: m.incarnation };
  }

  /** Applies an alive message. */
  handleAlive(a: AliveMsg): void {
    if (a.node === this.name) return this.#aliveAboutUs(a);
    const refused = this.#d.config.mergeCheck?.([{ name: a.node, tags: a.tags }]);
    if (refused) {
      this.#d.log.debug({ node: a.node, error: refused }, 'ignoring an alive message the merge check refused');
      return;
    }
    const cur = this.members.get(a.node);
    // memberlist's CIDRsAllowed: a member at another address is not added, nor moved there.
    if ((!cur || cur.addr !== a.host) && this.#allowed && !this.#allowed(a.host)) {
      this.#d.log.warn({ node: a.node, addr: a.host, error: `${a.host} is not allowed` }, cur ? 'rejected IP update' : 'rejected node');
      return;
    }
    if (!cur) return this.#addMember(a);
    if (a.inc <= cur.incarnation) return;
    const live = cur.state === 'alive' || cur.state === 'suspect';
    if (live && (cur.addr !== a.host || cur.port !== a.port)) {
      this.#d.log.warn({ node: a.node, old: `${cur.addr}:${cur.port}`, new: `${a.host}:${a.port}` }, 'conflicting address for a live member');
      return;
    }
    this.#clearSuspicion(a.node);
    this.#answered.delete(a.node);
    const changed = cur.addr !== a.host || cur.port !== a.port || !sameTags(cur.tags, a.tags);
    Object.assign(cur, { addr: a.host, port: a.port, tags: { ...a.tags }, incarnation: a.inc, state: 'alive' });
    this.#d.queue.enqueue(`m:${a.node}`, a);
    this.#d.stats?.msgAlive();
    if (!live) this.#changed(cur, 'alive', 'member-join');
    else if (changed) this.#emit('member-update', cur);
  }

  /** Applies a suspicion. */
  handleSuspect(s: SuspectMsg): void {
    const cur = this.members.get(s.node);
    if (!cur) return;
    if (s.inc < cur.incarnation) {
      if (s.node === this.name) return this.#refuteAgain(s.from);
      this.#d.log.debug({ node: s.node, inc: s.inc, known: cur.incarnation, from: s.from }, 'ignoring a suspicion of an older incarnation');
      return;
    }
    const timer = this.#suspicions.get(s.node);
    if (timer) {
      const newer = s.inc > cur.incarnation;
      // A peer suspects a newer incarnation than ours: the member refuted an earlier rumour and
      // the alive message missed us. We take that incarnation up, so that our verdict is one the
      // peers who saw the refutation accept, and pass the suspicion on to others like us.
      if (newer) cur.incarnation = s.inc;
      if (timer.confirm(s.from) || newer) this.#d.queue.enqueue(`m:${s.node}`, s);
      return;
    }
    if (cur.state === 'dead') return this.#answerLateSuspicion(cur, s);
    if (cur.state !== 'alive') return;
    if (s.node === this.name) {
      if (!this.leaving) this.refute(s.inc);
      return;
    }
    this.#d.queue.enqueue(`m:${s.node}`, s);
    this.#d.stats?.msgSuspect();
    cur.incarnation = s.inc;
    this.#changed(cur, 'suspect');
    this.#startSuspicion(cur, s.from);
  }

  /**
   * Our probe of `name` failed: we suspect it at the incarnation we hold, which also confirms a
   * suspicion someone else started (memberlist's probeNode). When we suspected it already we say
   * so again, unless a message about it is still queued: a peer that holds it failed by now (its
   * verdict's broadcast may have missed us) confirms our suspicion in answer.
   */
  probeFailed(name: string): void {
    const cur = this.members.get(name);
    if (!cur || (cur.state !== 'alive' && cur.state !== 'suspect')) return;
    const s: SuspectMsg = { t: 'suspect', node: name, inc: cur.incarnation, from: this.name };
    const again = this.#suspicions.has(name);
    this.handleSuspect(s);
    if (again && cur.state === 'suspect' && !this.#d.queue.has(`m:${name}`)) this.#d.queue.enqueue(`m:${name}`, s);
  }

  /** Applies a death or a leave (and a prune). */
  handleDead(d: DeadMsg): void {
    const cur = this.members.get(d.node);
    if (!cur) return;
    if (d.inc < cur.incarnation) {
      if (d.node === this.name) return this.#refuteAgain(d.from);
      this.#d.log.debug({ node: d.node, inc: d.inc, known: cur.incarnation, from: d.from }, 'ignoring a death of an older incarnation');
      return;
    }
    if (d.node === this.name) {
      if (!this.leaving) this.refute(d.inc);
      return;
    }
    const gone = cur.state === 'dead' || cur.state === 'left';
    if (gone && !(d.left && cur.state === 'dead') && !d.prune) {
      // Already gone: a newer incarnation is only noted, so later rumours of it are not news.
      cur.incarnation = d.inc;
      return;
    }
    this.#clearSuspicion(d.node);
    this.#d.queue.enqueue(`m:${d.node}`, d);
    // memberlist's deadNode stops at a member already gone: a leave after a failure is not counted.
    if (!gone) this.#d.stats?.msgDead();
    cur.incarnation = d.inc;
    if (d.left) this.#changed(cur, 'left', cur.state === 'left' ? undefined : 'member-leave');
    else this.#changed(cur, 'dead', 'member-failed');
    if (d.prune) this.remove(d.node);
  }

  // A peer still suspects a member we already hold dead: our verdict missed it, or it holds a
  // newer incarnation (the member refuted a rumour whose alive message missed us) and ignores our
  // verdict. Either way its timer, short of confirmations, may run to the Lifeguard maximum. We
  // confirm its suspicion: that shortens its timer to the minimum but never skips it, so a member
  // that is in fact alive (a false verdict here) still has time to refute. Once per incarnation
  // and peer: peers holding the member dead would otherwise answer each other forever.
  #answerLateSuspicion(cur: Member, s: SuspectMsg): void {
    if (s.node === this.name || s.from === this.name) return;
    let seen = this.#answered.get(cur.name);
    if (!seen || seen.inc < s.inc) this.#answered.set(cur.name, seen = { inc: s.inc, peers: new Set() });
    if (seen.inc > s.inc || seen.peers.has(s.from)) return;
    seen.peers.add(s.from);
    this.#d.log.debug({ node: cur.name, inc: s.inc, known: cur.incarnation, from: s.from }, 'confirming a late suspicion of a failed member');
    this.#d.queue.enqueue(`m:${cur.name}`, { t: 'suspect', node: cur.name, inc: s.inc, from: this.name });
  }

  /** Answers a rumour about us at incarnation `inc` with a higher one. */
  refute(inc: number): void {
    const me = this.local();
    me.incarnation = Math.max(me.incarnation, inc) + 1;
    this.#d.log.warn({ accused: inc, inc: me.incarnation }, 'refuting a rumour about us with a newer incarnation');
    this.#d.awareness.apply(1);
    this.#d.queue.enqueue(`m:${this.name}`, this.localAlive());
  }

  // A rumour about us at an incarnation we already refuted: whoever spreads it missed our alive
  // message, and would keep suspecting us (or hold us failed) until a push-pull. We announce the
  // current incarnation again; it needs no new one, and says nothing about our health.
  #refuteAgain(from: string): void {
    if (this.leaving) return;
    this.#d.log.debug({ from }, 'repeating our alive message to a rumour of an older incarnation');
    this.#d.queue.enqueue(`m:${this.name}`, this.localAlive());
  }

  /** Changes our tags, announcing them with a new incarnation. */
  setTags(tags: Record<string, string>): void {
    checkTagSize(tags);
    const me = this.local();
    me.tags = { ...tags };
    me.incarnation++;
    this.#d.queue.enqueue(`m:${this.name}`, this.localAlive());
    // memberlist's UpdateNode applies our new alive message through aliveNode, which counts it.
    this.#d.stats?.msgAlive();
  }

  /** Marks us as left and queues the announcement; `done` runs once it has been sent out. */
  leaveSelf(done: () => void): DeadMsg {
    this.leaving = true;
    const me = this.local();
    const msg: DeadMsg = { t: 'dead', node: this.name, inc: me.incarnation, from: this.name, left: true, prune: false };
    me.state = 'left';
    me.stateChange = this.#d.clock.now();
    this.#d.queue.enqueue(`m:${this.name}`, msg, done);
    // memberlist's Leave applies our own death through deadNode, which counts it.
    this.#d.stats?.msgDead();
    return msg;
  }

  /** Forgets a member entirely (reap or prune). */
  remove(name: string): void {
    const cur = this.members.get(name);
    if (!cur || name === this.name) return;
    this.#clearSuspicion(name);
    this.#answered.delete(name);
    this.members.delete(name);
    this.#emit('member-reap', cur);
  }

  /** Our whole table for a push-pull exchange. */
  snapshotWire(): MemberWire[] {
    return [...this.members.values()].map((m) => ({
      node: m.name, host: m.addr, port: m.port, tags: { ...m.tags }, inc: m.incarnation, state: m.state,
    }));
  }

  /**
   * Merges a peer's table (all or nothing: a refused member throws), as memberlist's mergeState:
   * alive members go through the alive path, left ones through the death path, and suspect or
   * dead ones are only suspected here (never revived first: a peer's older verdict must not
   * resurrect a member we hold failed).
   */
  mergeRemote(members: MemberWire[], from: string): void {
    const refused = this.#d.config.mergeCheck?.(members.filter((m) => m.state !== 'left').map((m) => ({ name: m.node, tags: m.tags })));
    if (refused) throw new Error(refused);
    for (const m of members) {
      if (m.state === 'alive') this.handleAlive({ t: 'alive', node: m.node, host: m.host, port: m.port, tags: m.tags, inc: m.inc });
      else if (m.state === 'left') this.handleDead({ t: 'dead', node: m.node, inc: m.inc, from, left: true, prune: false });
      else if (this.members.get(m.node)?.state !== 'dead') this.handleSuspect({ t: 'suspect', node: m.node, inc: m.inc, from });
    }
  }

  /** Cancels every suspicion timer (shutdown). */
  stop(): void {
    for (const s of this.#suspicions.values()) s.cancel();
    this.#suspicions.clear();
  }

  #aliveAboutUs(a: AliveMsg): void {
    const me = this.local();
    if (a.inc < me.incarnation || this.leaving) return;
    const same = a.host === me.addr && a.port === me.port && sameTags(a.tags, me.tags);
    if (a.inc === me.incarnation && same) return;
    this.refute(a.inc);
    this.#d.stats?.msgAlive();
  }

  #addMember(a: AliveMsg): void {
    const m: Member = {
      name: a.node, addr: a.host, port: a.port, tags: { ...a.tags },
      incarnation: a.inc, state: 'alive', stateChange: this.#d.clock.now(),
    };
    this.members.set(a.node, m);
    this.#d.queue.enqueue(`m:${a.node}`, a);
    this.#d.stats?.msgAlive();
    this.#emit('member-join', m);
  }

  #startSuspicion(m: Member, from: string): void {
    const { config, clock } = this.#d;
    const n = this.liveCount();
    // Confirmations expected before the minimum timeout; none when too few others could send them.
    const k = n - 2 < config.suspicionMult - 2 ? 0 : config.suspicionMult - 2;
    const min = suspicionTimeout(config.suspicionMult, n, config.probeIntervalMs);
    const max = config.suspicionMaxTimeoutMult * min;
    const changedAt = m.stateChange;
    this.#suspicions.set(m.name, new Suspicion(clock, from, k, min, max, (confirmations) => {
      const cur = this.members.get(m.name);
      if (!cur || cur.state !== 'suspect' || cur.stateChange !== changedAt) return;
      if (k > 0 && confirmations < k) this.#d.stats?.degradedTimeout();
      this.#d.log.info({ node: m.name, confirmations }, 'marking member as failed, suspect timeout reached');
      this.handleDead({ t: 'dead', node: m.name, inc: cur.incarnation, from: this.name, left: false, prune: false });
    }));
  }

  #clearSuspicion(name: string): void {
    this.#suspicions.get(name)?.cancel();
    this.#suspicions.delete(name);
  }

  #changed(m: Member, state: Member['state'], event?: MemberEventType): void {
    m.state = state;
    m.stateChange = this.#d.clock.now();
    if (event) this.#emit(event, m);
  }

  #emit(type: MemberEventType, m: Member): void {
    this.#d.emit({ type, member: cloneMember(m) });
  }
}

/** Tags ride in every alive message, so they must fit a packet (memberlist's 512-byte meta limit). */
export function checkTagSize(tags: Record<string, string>): void {
  if (Buffer.byteLength(JSON.stringify(tags)) > 512) throw new Error('Encoded length of tags exceeds limit of 512 bytes');
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
