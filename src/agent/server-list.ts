// A client agent's view of its datacenter's servers (Consul's agent/router manager): live LAN
// members with role=consul in this datacenter, addressed by their internal RPC port tag, kept
// current from gossip events, shuffled once, and cycled past a server whose connection failed.
import type { Gossip, Member } from '../gossip/index.ts';
import type { ServerSource } from './forward.ts';
import { joinHostPort } from '../host-port.ts';

/** The internal RPC address of a server member, or null when the member is not a usable server of `dc`. */
export function serverAddress(m: Member, dc: string): string | null {
  // A suspect is still a member (Serf's alive): Consul's router drops servers only when they fail or leave.
  if (m.tags.role !== 'consul' || m.tags.dc !== dc || (m.state !== 'alive' && m.state !== 'suspect')) return null;
  const port = Number(m.tags.port);
  if (!Number.isInteger(port) || port <= 0) return null;
  return joinHostPort(m.addr, port);
}

/** The datacenter's known servers in the order requests try them. */
export class ServerList implements ServerSource {
  readonly #dc: string;
  readonly #random: () => number;
  /** Member name → RPC address, in try order. */
  #order: { name: string; addr: string }[] = [];
  #unsubscribe: (() => void) | null = null;

  constructor(opts: { datacenter: string; random: () => number }) {
    this.#dc = opts.datacenter;
    this.#random = opts.random;
  }

  /** Follows the pool: adds servers that join, drops those that fail or leave. */
  follow(gossip: Gossip): void {
    this.#unsubscribe?.();
    for (const m of gossip.members()) this.update(m);
    this.#unsubscribe = gossip.on((e) => {
      if (e.type !== 'user') this.update(e.member);
    });
  }

  /** Stops following the pool and forgets the servers. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#order = [];
  }

  /** Applies one member's current state. */
  update(m: Member): void {
    const addr = serverAddress(m, this.#dc);
    const i = this.#order.findIndex((s) => s.name === m.name);
    if (addr === null) {
      if (i >= 0) this.#order.splice(i, 1);
      return;
    }
    if (i >= 0) {
      this.#order[i].addr = addr;
      return;
    }
    // A new server goes to a random place, so clients spread over servers as Consul's shuffle does.
    const at = Math.floor(this.#random() * (this.#order.length + 1));
    this.#order.splice(at, 0, { name: m.name, addr });
  }

  /** RPC addresses in try order. */
  servers(): string[] {
    return this.#order.map((s) => s.addr);
  }

  /** Moves a server whose connection failed to the back (Consul's NotifyFailedServer). */
  failed(addr: string): void {
    const i = this.#order.findIndex((s) => s.addr === addr);
    if (i < 0 || i === this.#order.length - 1) return;
    this.#order.push(...this.#order.splice(i, 1));
  }
}
