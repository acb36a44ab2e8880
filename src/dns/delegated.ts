// What a server's DNS handler leaves to the client agent that asked: recursion, and the addresses
// of hostnames in an answer (the client uses its own recursors for both, as Consul's clients do).

/** Thrown by a handler that leaves recursion to whoever asked it (a server answering for a client agent). */
export class RecursionDelegated extends Error {
  constructor() {
    super('recursion is left to the asking agent');
  }
}

/** A DnsHandler `recursion` that delegates every recursion. */
export const delegateRecursion = (): Promise<never> => Promise.reject(new RecursionDelegated());

/**
 * Thrown by a handler that leaves hostname addresses to whoever asked it (a server answering for
 * a client agent, which resolves them with its own recursors, as Consul's client agents do):
 * `reply` is the whole answer with its hostnames unresolved, written for TCP (nothing cut).
 */
export class HostnamesDelegated extends Error {
  readonly reply: Buffer;

  constructor(reply: Buffer) {
    super('hostname addresses are left to the asking agent');
    this.reply = reply;
  }
}
