// GET /v1/operator/segment (Consul Enterprise's Operator.SegmentList): the LAN network segments.
import type { CallOptions, ConsulClient } from './client.ts';

/** The network segment names; '' is the default segment. */
export async function segmentList(c: ConsulClient, options?: CallOptions): Promise<string[]> {
  return (await c.json<string[]>({ method: 'GET', path: '/v1/operator/segment', options })).data;
}
