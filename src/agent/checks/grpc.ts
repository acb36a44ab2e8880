// gRPC checks (Consul's CheckGRPC): the standard grpc.health.v1.Health/Check call against
// `host:port[/service]`; SERVING is passing, any other answer or RPC error is critical.
import type * as Grpc from '@grpc/grpc-js';
import type { Clock } from '../../clock.ts';
import { DEFAULT_NET_TIMEOUT_MS } from './http.ts';
import type { ProbeResult } from './script.ts';
import type { CheckType } from './types.ts';

/** The health service method path. */
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** grpc.health.v1 ServingStatus names by number. */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

const CODE_NAMES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists',
  'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal',
  'Unavailable', 'DataLoss', 'Unauthenticated'];

/** Encodes a HealthCheckRequest (`string service = 1`). */
export function encodeHealthRequest(service: string): Buffer {
  const body = Buffer.from(service, 'utf8');
  if (body.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x0a]), encodeVarint(body.length), body]);
}

/** Decodes the `status` (field 1) of a HealthCheckResponse or request-like message; 0 when absent. */
export function decodeHealthStatus(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const [tag, afterTag] = readVarint(buf, i);
    const [value, next] = readVarint(buf, afterTag);
    if (tag === 0x08) return value;
    i = (tag & 7) === 2 ? next + value : next;
  }
  return 0;
}

/** Encodes a HealthCheckResponse with the given status (used by test servers). */
export function encodeHealthResponse(status: number): Buffer {
  return status === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x08]), encodeVarint(status)]);
}

function encodeVarint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return Buffer.from(out);
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let n = 0;
  let shift = 0;
  let i = at;
  while (i < buf.length) {
    const b = buf[i++];
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return [n, i];
}

/** What a gRPC probe needs. */
export interface GrpcProbeDeps {
  clock: Clock;
  /** Extra CA certificates (PEM) trusted when grpc_use_tls is set. */
  ca?: string;
  /** enable_agent_tls_for_checks: the agent's CAs, key pair and default server name. */
  agentTls?: import('node:tls').ConnectionOptions;
}

let grpcModule: Promise<typeof Grpc> | undefined;

/** @grpc/grpc-js, imported when the first gRPC check runs rather than on every agent start. */
function loadGrpc(): Promise<typeof Grpc> {
  grpcModule ??= import('@grpc/grpc-js');
  return grpcModule;
}

function channel(grpc: typeof Grpc, def: CheckType, server: string, ca?: string, agentTls?: import('node:tls').ConnectionOptions): Grpc.Client {
  const pem = (v: unknown): Buffer | null => (v === undefined ? null : Buffer.concat((Array.isArray(v) ? v : [v]).map((x) => Buffer.from(x as string | Buffer))));
  const creds = !def.GRPCUseTLS ? grpc.credentials.createInsecure()
    : agentTls
      ? grpc.credentials.createSsl(pem(agentTls.ca), pem(agentTls.key), pem(agentTls.cert), { rejectUnauthorized: !def.TLSSkipVerify })
      : grpc.credentials.createSsl(ca ? Buffer.from(ca) : null, null, null, { rejectUnauthorized: !def.TLSSkipVerify });
  const name = def.TLSServerName || (def.GRPCUseTLS ? agentTls?.servername : undefined);
  const options: Grpc.ChannelOptions = name ? { 'grpc.ssl_target_name_override': name } : {};
  return new grpc.Client(server, creds, options);
}

/** Builds the probe for a gRPC check. */
export function grpcProbe(def: CheckType, deps: GrpcProbeDeps): (signal: AbortSignal) => Promise<ProbeResult> {
  const target = def.GRPC ?? '';
  const slash = target.indexOf('/');
  const server = slash < 0 ? target : target.slice(0, slash);
  const service = slash < 0 ? '' : target.slice(slash + 1);
  const timeoutMs = (def.Timeout ?? 0) > 0 ? def.Timeout! : DEFAULT_NET_TIMEOUT_MS;
  return async (signal) => {
    const grpc = await loadGrpc();
    return new Promise<ProbeResult>((resolve) => {
      const client = channel(grpc, def, server, deps.ca, deps.agentTls);
      let timedOut = false;
      const call = client.makeUnaryRequest(HEALTH_CHECK_PATH, encodeHealthRequest, decodeHealthStatus, service,
        new grpc.Metadata(), {}, (err, status) => {
          timer.cancel();
          signal.removeEventListener('abort', onStop);
          client.close();
          if (timedOut) resolve({ status: 'critical', output: 'rpc error: code = DeadlineExceeded desc = context deadline exceeded' });
          else if (err) resolve({ status: 'critical', output: `rpc error: code = ${CODE_NAMES[err.code] ?? err.code} desc = ${err.details}` });
          else if (status !== 1) resolve({ status: 'critical', output: `gRPC ${target} serving status: ${SERVING_STATUS[status ?? 0] ?? status}` });
          else resolve({ status: 'passing', output: `gRPC check ${target}: success` });
        });
      const onStop = (): void => call.cancel();
      const timer = deps.clock.setTimer(timeoutMs, () => { timedOut = true; call.cancel(); });
      signal.addEventListener('abort', onStop, { once: true });
    });
  };
}
