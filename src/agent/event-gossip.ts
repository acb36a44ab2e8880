// User events over the gossip pool, as Consul sends them: the serf event is named
// `consul:event:<name>` and carries the event's ID and filters, so every agent applies the
// filters itself and keeps matching events in its ring with the serf Lamport time as LTime.
import type { Gossip } from '../gossip/index.ts';
import type { EventBuffer, UserEvent } from './events.ts';

/** Consul's prefix for user events in the serf pool. */
export const EVENT_PREFIX = 'consul:event:';

interface Envelope {
  ID: string;
  NodeFilter: string;
  ServiceFilter: string;
  TagFilter: string;
  Version: number;
}

/** Encodes an event as a serf payload: the JSON envelope, a newline, then the raw payload. */
export function encodeEvent(ev: UserEvent): Buffer {
  const env: Envelope = { ID: ev.ID, NodeFilter: ev.NodeFilter, ServiceFilter: ev.ServiceFilter, TagFilter: ev.TagFilter, Version: ev.Version };
  const payload = ev.Payload ? Buffer.from(ev.Payload, 'base64') : Buffer.alloc(0);
  return Buffer.concat([Buffer.from(`${JSON.stringify(env)}\n`), payload]);
}

/** Decodes a serf payload back into Consul's event; null when it is not one of ours. */
export function decodeEvent(name: string, data: Buffer, ltime: number): UserEvent | null {
  const nl = data.indexOf(0x0a);
  if (nl < 0) return null;
  try {
    const env = JSON.parse(data.subarray(0, nl).toString()) as Envelope;
    if (typeof env.ID !== 'string') return null;
    const payload = data.subarray(nl + 1);
    return {
      ID: env.ID, Name: name, Payload: payload.length ? payload.toString('base64') : null, NodeFilter: env.NodeFilter ?? '',
      ServiceFilter: env.ServiceFilter ?? '', TagFilter: env.TagFilter ?? '', Version: env.Version ?? 1, LTime: ltime,
    };
  } catch {
    return null;
  }
}

/** Routes the buffer's fired events through the pool and feeds received ones back; returns the unsubscribe. */
export function bridgeEvents(events: EventBuffer, gossip: Gossip): () => void {
  events.publishVia((ev) => gossip.userEvent(EVENT_PREFIX + ev.Name, encodeEvent(ev)));
  return gossip.on((e) => {
    if (e.type !== 'user' || !e.event.name.startsWith(EVENT_PREFIX)) return;
    const ev = decodeEvent(e.event.name.slice(EVENT_PREFIX.length), e.event.payload, e.event.ltime);
    if (ev) events.receive(ev);
  });
}
