// The gossip wire protocol: JSON messages. A UDP packet is `{ m: [...] }`, a primary message
// (ping, ack, …) followed by piggybacked broadcasts; a TCP stream carries one request and
// one response. Our own protocol, not memberlist's msgpack.
import type { Coordinate } from './coordinate.ts';

/** A member as it travels in alive messages and push-pull state. */
export interface MemberWire {
  node: string;
  host: string;
  port: number;
  tags: Record<string, string>;
  inc: number;
  state: 'alive' | 'suspect' | 'dead' | 'left';
}

/** A user event on the wire (payload base64). */
export interface UserEventWire {
  ltime: number;
  name: string;
  payload: string;
  cc: boolean;
}

/** Probe: the receiver answers with an ack when it is `node`. */
export interface PingMsg { t: 'ping'; seq: number; node: string; from: string }
/** Indirect probe request: probe `node` at host:port for me and relay the ack. */
export interface IndirectPingMsg { t: 'ireq'; seq: number; node: string; host: string; port: number; from: string; nack: boolean }
/** Probe answer; a direct answer carries the target's network coordinate (`c`), a relayed one does not. */
export interface AckMsg { t: 'ack'; seq: number; c?: Coordinate }
/** Lifeguard negative ack: the relay reached me but the target did not answer it. */
export interface NackMsg { t: 'nack'; seq: number }
/** A member is alive at an incarnation (join, refute, tag update). */
export interface AliveMsg { t: 'alive'; node: string; host: string; port: number; tags: Record<string, string>; inc: number }
/** `from` suspects `node` at an incarnation. */
export interface SuspectMsg { t: 'suspect'; node: string; inc: number; from: string }
/** `node` is dead, or left (`left`); `prune` erases it from member lists. */
export interface DeadMsg { t: 'dead'; node: string; inc: number; from: string; left: boolean; prune: boolean }
/** A user event. */
export interface UserMsg extends UserEventWire { t: 'user' }

/** Anything that travels in a packet. */
export type PacketMsg = PingMsg | IndirectPingMsg | AckMsg | NackMsg | AliveMsg | SuspectMsg | DeadMsg | UserMsg;

/** Full state exchange (join and anti-entropy). */
export interface PushPullMsg { t: 'pushpull'; join: boolean; from: string; members: MemberWire[]; eventClock: number; events: UserEventWire[] }
/** A keyring operation asked of one node. */
export interface KeyOpMsg { t: 'key'; op: 'list' | 'install' | 'use' | 'remove'; key?: string }
/** One node's answer to a keyring operation. */
export interface KeyRespMsg { t: 'keyresp'; node: string; ok: boolean; error?: string; keys: string[]; primary: string }
/** A stream-level failure reported to the caller. */
export interface ErrorMsg { t: 'error'; error: string }

/** Anything that travels on a stream. */
export type StreamMsg = PushPullMsg | KeyOpMsg | KeyRespMsg | ErrorMsg;

const PACKET_TYPES = new Set(['ping', 'ireq', 'ack', 'nack', 'alive', 'suspect', 'dead', 'user']);
const STREAM_TYPES = new Set(['pushpull', 'key', 'keyresp', 'error']);

/** Encodes the messages of one packet. */
export function encodePacket(msgs: PacketMsg[]): Buffer {
  return Buffer.from(JSON.stringify({ m: msgs }));
}

/** Byte size a message adds to a packet (its JSON plus a separator). */
export function packetSize(msg: PacketMsg): number {
  return Buffer.byteLength(JSON.stringify(msg)) + 1;
}

/** Decodes a packet; throws on anything malformed. */
export function decodePacket(buf: Buffer): PacketMsg[] {
  const v = JSON.parse(buf.toString('utf8')) as { m?: unknown };
  if (!v || !Array.isArray(v.m)) throw new Error('malformed packet');
  for (const m of v.m) {
    if (!m || typeof m !== 'object' || !PACKET_TYPES.has((m as { t: string }).t)) throw new Error('unknown message type');
  }
  return v.m as PacketMsg[];
}

/** Encodes one stream message. */
export function encodeStream(msg: StreamMsg): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

/** Decodes one stream message; throws on anything malformed. */
export function decodeStream(buf: Buffer): StreamMsg {
  const v = JSON.parse(buf.toString('utf8')) as { t?: string };
  if (!v || typeof v !== 'object' || !STREAM_TYPES.has(v.t ?? '')) throw new Error('unknown stream message type');
  return v as StreamMsg;
}
