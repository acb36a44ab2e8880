// Public surface of the gossip module (SWIM membership with Lifeguard suspicion, Serf-style
// member events, user events, an encrypted keyring and Vivaldi network coordinates). The agent
// and the leader import only this.
import { GossipNode, type GossipDeps } from './gossip.ts';
import type { GossipConfig } from './config.ts';

export type { GossipConfig, ResolvedConfig } from './config.ts';
export { LAN_DEFAULTS, WAN_DEFAULTS, suspicionTimeout, retransmitLimit } from './config.ts';
export type { GossipDeps } from './gossip.ts';
export type { Member, MemberState, SerfStatus } from './member.ts';
export { serfStatus, serfStatusCode } from './member.ts';
export type { GossipEvent, GossipListener, MemberEventType, UserEvent } from './gossip-events.ts';
export type { KeyList } from './keyring.ts';
export { generateKey, decodeKey, NO_KEY_DECRYPTS } from './keyring.ts';
export type { KeyringReport } from './keyring-ops.ts';
export type { GossipKeyring, RotationReport } from './gossip-keyring.ts';
export type { Address } from './address.ts';
export { parseAddress, formatAddress } from './address.ts';
export type { Transport, TransportHandlers } from './transport.ts';
export { createNetTransport } from './transport-net.ts';
// The in-memory network is for simulations and tests: they import transport-memory.ts itself (issue #9).
export type { MemoryNetwork } from './transport-memory.ts';
export { seededRandom } from './random.ts';
export type { Coordinate, VivaldiConfig } from './coordinate.ts';
export {
  VivaldiClient, VIVALDI_DEFAULTS, estimateRtt, newCoordinate, coordinateValid, coordinatesCompatible, intersectCoordinates,
} from './coordinate.ts';
export type { PingCoordinates } from './ping-coordinates.ts';

/** A running gossip pool member: what the agent and the leader consume. */
export type Gossip = Pick<GossipNode,
  | 'config' | 'keyring' | 'start' | 'join' | 'leave' | 'shutdown' | 'members' | 'localMember'
  | 'setTags' | 'forceLeave' | 'userEvent' | 'eventClock' | 'on' | 'healthScore' | 'coordinates' | 'instrument'>;

/** Builds a gossip node; `start()` binds its sockets. */
export function createGossip(config: GossipConfig, deps: GossipDeps = {}): Gossip {
  return new GossipNode(config, deps);
}
