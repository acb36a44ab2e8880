// A gossip pool member as every layer sees it, and the mapping to Serf's status codes that
// /v1/agent/members reports.

/** SWIM state: `suspect` is still a member; `dead` is Serf's `failed`. */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** One node of the pool. */
export interface Member {
  name: string;
  addr: string;
  port: number;
  tags: Record<string, string>;
  incarnation: number;
  state: MemberState;
  /** Clock time of the last state change (ms). */
  stateChange: number;
}

/** Serf's member status names (Consul prints these in `members`). */
export type SerfStatus = 'alive' | 'leaving' | 'left' | 'failed';

/** Maps a SWIM state to the Serf status Consul shows; a suspect is still `alive`. */
export function serfStatus(m: Pick<Member, 'state'>, leaving = false): SerfStatus {
  if (m.state === 'dead') return 'failed';
  if (m.state === 'left') return 'left';
  return leaving ? 'leaving' : 'alive';
}

/** Serf's numeric status as /v1/agent/members returns it (1 alive, 2 leaving, 3 left, 4 failed). */
export function serfStatusCode(s: SerfStatus): number {
  return { alive: 1, leaving: 2, left: 3, failed: 4 }[s];
}

/** A detached copy safe to hand to consumers. */
export function cloneMember(m: Member): Member {
  return { ...m, tags: { ...m.tags } };
}
