// Check definitions as the agent receives them (Consul's structs.CheckType), which runner a
// definition selects, and Consul's validation with its exact error texts.

/** A check's health as Consul reports it. */
export type CheckStatus = 'passing' | 'warning' | 'critical';

/** Receives every status a runner reports. */
export type UpdateFn = (status: CheckStatus, output: string) => void;

/** The runner kinds, named as Consul's `CheckType.Type()` names them. */
export type CheckKind =
  | 'ttl' | 'http' | 'tcp' | 'udp' | 'grpc' | 'docker' | 'os_service' | 'script' | 'h2ping' | 'alias';

/** A check definition with Consul's field names; every duration is in milliseconds. */
export interface CheckType {
  CheckID?: string;
  Name?: string;
  Status?: CheckStatus;
  Notes?: string;
  ScriptArgs?: string[];
  /** The `args` spelling of ScriptArgs; used when ScriptArgs is empty. */
  Args?: string[];
  /** Legacy single-string script, run through `Shell -c` (default `$SHELL`, then /bin/sh). */
  Script?: string;
  Shell?: string;
  DockerContainerID?: string;
  HTTP?: string;
  Method?: string;
  Header?: Record<string, string[]>;
  Body?: string;
  DisableRedirects?: boolean;
  TLSServerName?: string;
  TLSSkipVerify?: boolean;
  TCP?: string;
  TCPUseTLS?: boolean;
  UDP?: string;
  GRPC?: string;
  GRPCUseTLS?: boolean;
  H2PING?: string;
  /** Defaults to true when H2PING is set; false means cleartext HTTP/2 (h2c). */
  H2PingUseTLS?: boolean;
  OSService?: string;
  AliasNode?: string;
  AliasService?: string;
  Interval?: number;
  Timeout?: number;
  TTL?: number;
  SuccessBeforePassing?: number;
  FailuresBeforeWarning?: number;
  FailuresBeforeCritical?: number;
  DeregisterCriticalServiceAfter?: number;
  OutputMaxSize?: number;
}

/** Consul's checks.MinInterval: polling checks never run more often than this (fork-bomb guard). */
export const MIN_INTERVAL_MS = 1000;

/** Consul's checks.DefaultBufSize: captured output is capped at this many bytes by default. */
export const DEFAULT_OUTPUT_MAX_SIZE = 4096;

/** The arguments of a script or docker check (`ScriptArgs`, else `Args`). */
export function scriptArgs(def: CheckType): string[] {
  if (def.ScriptArgs && def.ScriptArgs.length > 0) return def.ScriptArgs;
  return def.Args ?? [];
}

function isScript(def: CheckType): boolean {
  return scriptArgs(def).length > 0 || Boolean(def.Script);
}

function isAlias(def: CheckType): boolean {
  return Boolean(def.AliasNode || def.AliasService);
}

/**
 * The runner a definition selects, in the order Consul's agent tries them (TTL, HTTP, TCP, UDP,
 * gRPC, Docker, OS service, script, H2PING, alias); undefined when none fits.
 */
export function checkKind(def: CheckType): CheckKind | undefined {
  const polled = (def.Interval ?? 0) > 0;
  if ((def.TTL ?? 0) > 0) return 'ttl';
  if (polled) {
    if (def.HTTP) return 'http';
    if (def.TCP) return 'tcp';
    if (def.UDP) return 'udp';
    if (def.GRPC) return 'grpc';
    if (isScript(def) && def.DockerContainerID) return 'docker';
    if (def.OSService) return 'os_service';
    if (isScript(def)) return 'script';
    if (def.H2PING) return 'h2ping';
  }
  if (isAlias(def)) return 'alias';
  return undefined;
}

/** True for the kinds that poll on an interval (the ones MinInterval applies to). */
export function isPolledKind(kind: CheckKind): boolean {
  return kind !== 'ttl' && kind !== 'alias';
}

/** Consul's `CheckType.Validate()`: the first problem's exact message, or undefined when valid. */
export function validateCheckType(def: CheckType): string | undefined {
  const interval = def.Interval ?? 0;
  const ttl = def.TTL ?? 0;
  const intervalCheck = isScript(def) || Boolean(def.HTTP || def.TCP || def.UDP || def.GRPC || def.H2PING || def.OSService);
  if (interval > 0 && ttl > 0) return 'Interval and TTL cannot both be specified';
  if (intervalCheck && interval <= 0) return 'Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks';
  if (intervalCheck && isAlias(def)) return 'Interval cannot be set for Alias checks';
  if (isAlias(def) && ttl > 0) return 'TTL must be not be set for Alias checks';
  if (!intervalCheck && !isAlias(def) && ttl <= 0) return 'TTL must be > 0 for TTL checks';
  if ((def.OutputMaxSize ?? 0) < 0) return 'MaxOutputMaxSize must be positive';
  if ((def.FailuresBeforeWarning ?? 0) > (def.FailuresBeforeCritical ?? 0)) {
    return "FailuresBeforeWarning can't be higher than FailuresBeforeCritical";
  }
  return undefined;
}

/**
 * The output cap for a check: the agent's `check_output_max_size` (default 4096), lowered by the
 * check's own OutputMaxSize when that is smaller, as Consul's addCheck does.
 */
export function outputMaxSize(def: CheckType, agentMax = 0): number {
  let max = agentMax > 0 ? agentMax : DEFAULT_OUTPUT_MAX_SIZE;
  if ((def.OutputMaxSize ?? 0) > 0 && max > def.OutputMaxSize!) max = def.OutputMaxSize!;
  return max;
}
