// What the gossip layer tells its consumers: Serf's member events and user events.
import type { Member } from './member.ts';

/** Serf's member event names (Consul's event handler names). */
export type MemberEventType = 'member-join' | 'member-update' | 'member-leave' | 'member-failed' | 'member-reap';

/** A user event as delivered to consumers. */
export interface UserEvent {
  /** Lamport time of the event. */
  ltime: number;
  name: string;
  payload: Buffer;
  coalesce: boolean;
}

/** One notification from the pool. */
export type GossipEvent =
  | { type: MemberEventType; member: Member }
  | { type: 'user'; event: UserEvent };

/** A consumer callback. */
export type GossipListener = (e: GossipEvent) => void;
