// Load generators for bench/dns.ts: a closed loop (N queries always outstanding: peak qps) and
// an open loop at a fixed rate (latency at a given load), both UDP with EDNS0 4096, one random
// `svc<N>.service.consul` per query; replies with an error RCODE or fewer than `minAnswers`
// answers are counted as short.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

/** What one load run measured (latencies in ms). */
export interface LoadResult {
  qps: number;
  p50: number;
  p99: number;
  /** Short or failed replies. */
  errors: number;
  /** Queries never answered (open loop only). */
  lost: number;
  /** CPU the load generator used over the run, in cores (dnsperf's paced runs only). */
  genCores?: number;
  /** CPU the server used over the run, in cores (the paced runs at half unbound's dnsperf peak). */
  serverCores?: number;
}

/** The shape of the generated queries. */
export interface LoadSpec {
  port: number;
  type: 'A' | 'SRV';
  services: number;
  minAnswers: number;
  seconds: number;
}

const OPT = { type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };

/** Encoded queries, one per service, with the id to be patched in. */
function templates(spec: LoadSpec): Buffer[] {
  return Array.from({ length: spec.services }, (_, i) =>
    dnsPacket.encode({ type: 'query', id: 0, questions: [{ type: spec.type, name: `svc${i}.service.consul` }], additionals: [OPT as never] }));
}

/**
 * A socket with per-id send times; `onReply` runs after each matched reply. Queries are
 * pre-encoded and the receive buffer is large so the generator, not the server, is never what drops.
 */
function session(spec: LoadSpec, onReply: () => void): { send(): void; lat: number[]; errors: () => number; sent: () => number; close(): void } {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const queries = templates(spec);
  const started = new Float64Array(65536).fill(-1);
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  sock.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    const t0 = started[id];
    if (t0 < 0) return;
    started[id] = -1;
    if ((msg.readUInt16BE(2) & 0xf) !== 0 || msg.readUInt16BE(6) < spec.minAnswers) errors++;
    lat.push(performance.now() - t0);
    onReply();
  });
  const send = (): void => {
    const id = next++ & 0xffff;
    const q = Buffer.from(queries[Math.floor(Math.random() * spec.services)]);
    q.writeUInt16BE(id, 0);
    started[id] = performance.now();
    sock.send(q, spec.port, '127.0.0.1');
  };
  return { send, lat, errors: () => errors, sent: () => next, close: () => sock.close() };
}

function summarize(lat: number[], seconds: number, errors: number, lost: number): LoadResult {
  lat.sort((a, b) => a - b);
  return { qps: Math.round(lat.length / seconds), p50: lat[Math.floor(lat.length * 0.5)] ?? NaN, p99: lat[Math.floor(lat.length * 0.99)] ?? NaN, errors, lost };
}

/** Keeps `concurrency` queries outstanding for `seconds`: the server's peak throughput. */
export async function closedLoop(spec: LoadSpec, concurrency: number): Promise<LoadResult> {
  const end = Date.now() + spec.seconds * 1000;
  let outstanding = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const s = session(spec, () => {
    outstanding--;
    if (Date.now() < end) outstanding++, s.send();
    else if (outstanding === 0) done();
  });
  for (let i = 0; i < concurrency; i++) outstanding++, s.send();
  await finished;
  s.close();
  return summarize(s.lat, spec.seconds, s.errors(), 0);
}

/** Sends `rate` queries per second, evenly, for `seconds` whatever the replies: latency at that load. */
export async function openLoop(spec: LoadSpec, rate: number): Promise<LoadResult> {
  const s = session(spec, () => {});
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= spec.seconds) return resolve();
      // Catch up at most 16 queries per turn so a stall does not turn into one big burst.
      for (let due = Math.min(16, Math.floor(elapsed * rate) - sent); due > 0; due--) sent++, s.send();
      setImmediate(tick);
    };
    tick();
  });
  await new Promise((r) => setTimeout(r, 300));
  s.close();
  return summarize(s.lat, spec.seconds, s.errors(), s.sent() - s.lat.length);
}
