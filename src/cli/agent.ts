// `proconsul agent`: load the configuration (files, dirs, flags), start the agent, print
// Consul's start-up banner, then run until SIGINT/SIGTERM and shut down cleanly.
import { loadConfig, agentFlagDefs, ConfigError, type RuntimeConfig } from '../agent/config/index.ts';
import { createAgent } from '../agent/agent.ts';
import { systemClock } from '../clock.ts';
import { createLogger, LogHub } from '../log.ts';
import type { LogFile } from '../log-file.ts';
import type { Syslog } from '../log-syslog.ts';
import { CONSUL_API_VERSION, PROCONSUL_VERSION, buildDate } from '../version.ts';
import type { CliIO, Command } from './io.ts';

/** How long a clean shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 5000;
/** Consul's graceful-leave timeout: leaving the pool may take this long on top. */
const LEAVE_GRACE_MS = 15_000;

/** Whether a signal leaves the pool first (leave_on_terminate / skip_leave_on_interrupt). */
function leavesOn(sig: string, c: RuntimeConfig): boolean {
  if (!c.gossip) return false;
  if (sig === 'interrupt') return !c.gossip.skipLeaveOnInterrupt;
  return sig === 'terminated' && c.gossip.leaveOnTerminate;
}

function banner(c: RuntimeConfig): string {
  const rows: [string, string][] = [
    ['Version', `'${CONSUL_API_VERSION}' (Proconsul ${PROCONSUL_VERSION})`],
    ['Build Date', `'${buildDate()}'`],
    ['Node ID', `'${c.nodeId}'`],
    ['Node name', `'${c.nodeName}'`],
    ['Datacenter', `'${c.datacenter}' (Segment: '<all>')`],
    ['Server', `${c.server} (Bootstrap: ${c.bootstrap})`],
    ['Client Addr', `[${c.clientAddrs.join(' ')}] (HTTP: ${c.ports.http}, HTTPS: ${c.ports.https}, gRPC: ${c.ports.grpc}, gRPC-TLS: ${c.ports.grpcTls}, DNS: ${c.ports.dns})`],
    ['Cluster Addr', `${c.advertiseAddr} (LAN: ${c.ports.serfLan}, WAN: ${c.ports.serfWan})`],
    // A client agent keeps no store: it asks the servers.
    ['Store', c.server ? `${c.store.backend}${c.dataDir ? ` (${c.dataDir})` : ''}` : 'none (client agent)'],
    ['Gossip Encryption', String(Boolean(c.gossip?.encrypt))],
    ['Auto-Encrypt-TLS', String(Boolean(c.autoEncrypt?.tls || c.autoEncrypt?.allowTls))],
    ['ACL Enabled', String(c.acl.enabled)],
    ['ACL Default Policy', c.acl.defaultPolicy],
  ];
  const lines = rows.map(([k, v]) => `${k.padStart(22)}: ${v}`);
  return `==> Starting Consul agent...\n${lines.join('\n')}\n\n==> Log data will now stream in as it occurs:\n\n`;
}

/** Waits for the first SIGINT or SIGTERM; returns its name. */
function nextSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = on('interrupt');
    const onTerm = on('terminated');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

// SIGHUP reloads the configuration files, as Consul does.
function reloadOnHangup(reload: () => Promise<unknown>, io: CliIO): () => void {
  const onHup = (): void => {
    io.stdout('==> Caught signal: hangup\n==> Reloading configuration...\n');
    reload().catch((err: Error) => io.stderr(`==> Failed to reload configs: ${err.message}\n`));
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

async function run(args: string[], io: CliIO): Promise<number> {
  let config: RuntimeConfig;
  try {
    const loaded = await loadConfig({ args, env: io.env });
    config = loaded.config;
    for (const w of loaded.warnings) io.stderr(`==> ${w}\n`);
  } catch (err) {
    if (err instanceof ConfigError || (err instanceof Error && err.name === 'FlagError')) {
      io.stderr(`==> ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let logFile: LogFile | undefined;
  try {
    // Loaded only for -log-file, as the syslog writer below.
    logFile = config.logFile ? new (await import('../log-file.ts')).LogFile({ path: config.logFile, ...logRotation(config) }) : undefined;
  } catch (err) {
    io.stderr(`==> ${(err as Error).message}\n`);
    return 1;
  }
  // enable_syslog: lines also go to the local syslog under syslog_facility (Consul's default LOCAL0).
  let syslog: Syslog | undefined;
  if (config.raw.enable_syslog === true) {
    try {
      const facility = typeof config.raw.syslog_facility === 'string' ? config.raw.syslog_facility : 'LOCAL0';
      // PROCONSUL_SYSLOG_SOCKET: a syslog socket elsewhere than Go's places (tests, containers).
      const socket = io.env.PROCONSUL_SYSLOG_SOCKET;
      // Loaded only here: it brings a native module (unix datagram sockets) no other start needs.
      const { Syslog } = await import('../log-syslog.ts');
      syslog = await Syslog.open({ facility, ...(socket ? { paths: [socket] } : {}) });
    } catch (err) {
      logFile?.close();
      io.stderr(`==> ${(err as Error).message}\n`);
      return 1;
    }
  }
  const logHub = new LogHub();
  const logger = createLogger({
    level: config.logLevel, json: config.logJson, hub: logHub, sublevels: config.logSublevels,
    write: (s) => {
      io.stdout(s);
      logFile?.write(s);
      syslog?.write(s);
    },
  });
  let requestLeave: (why: string) => void = () => {};
  const left = new Promise<string>((resolve) => { requestLeave = resolve; });
  // Without -server the agent is a client: local services and checks, everything else forwarded.
  // Its modules (forwarding, the DNS cache) are imported only then.
  const agent = (config.server ? createAgent : (await import('../agent/client.ts')).createClientAgent)(config, {
    logger, logHub,
    // PUT /v1/agent/leave ends the process the way a signal does.
    shutdown: () => requestLeave('leave'),
    // retry_max exhausted: Consul's agent exits with an error.
    onJoinExhausted: (err) => {
      io.stderr(`==> ${err.message}\n`);
      requestLeave('join-exhausted');
    },
    reloadConfig: async () => (await loadConfig({ args, env: io.env })).config,
  });
  io.stdout(banner(config));
  try {
    await agent.start();
  } catch (err) {
    io.stderr(`==> Error starting agent: ${(err as Error).message}\n`);
    await agent.stop().catch(() => undefined);
    return 1;
  }
  io.stdout('==> Consul agent running!\n');
  const stopReload = reloadOnHangup(async () => agent.reload((await loadConfig({ args, env: io.env })).config), io);
  const signal = nextSignal();
  // Loaded once the agent answers (and its signals are handled): nothing on its start path needs it.
  const idle = io.setV8Flag ? await import('../agent/idle-memory.ts') : undefined;
  const idleMemory = idle && io.setV8Flag ? new idle.IdleMemory({ ...idle.processMemoryDeps(), setFlag: io.setV8Flag, clock: systemClock, logger }) : undefined;
  if (io.setV8Flag) for (const flag of servingV8Flags(process.execArgv, io.env)) io.setV8Flag(flag);
  const sig = await Promise.race([signal, left]);
  stopReload();
  const graceful = leavesOn(sig, config);
  if (sig === 'leave') io.stdout('==> Graceful leave complete\n');
  else if (sig !== 'join-exhausted') io.stdout(`==> Caught signal: ${sig}\n`);
  if (graceful) io.stdout('==> Gracefully shutting down agent...\n');
  else if (sig !== 'leave') io.stdout('==> Shutting down agent without leaving the cluster...\n');
  const forced = setTimeout(() => {
    io.stderr('==> Shutdown took too long; exiting\n');
    process.exit(1);
  }, SHUTDOWN_GRACE_MS + (graceful ? LEAVE_GRACE_MS : 0));
  forced.unref();
  // A second signal during shutdown exits at once, as Consul does.
  void nextSignal().then(() => process.exit(1));
  if (graceful) await agent.leave().catch((err: Error) => io.stderr(`==> Error leaving: ${err.message}\n`));
  idleMemory?.stop();
  await agent.stop();
  logFile?.close();
  syslog?.close();
  clearTimeout(forced);
  return sig === 'join-exhausted' ? 1 : 0;
}

/**
 * V8 flags the CLI agent sets once it serves. Its scavenges then run on the main thread alone: the
 * launcher holds the young generation at 1 MiB semi-spaces (bin/proconsul.js), where V8's helper
 * threads save little copying and waking them costs more than it saves on small machines. 2-core
 * VM, alternated: a catalog registration's helper-thread CPU 21-22 -> 10-11 µs, scavenge pause per
 * registration 21-22 -> 19 µs; DNS scavenge pause p50 0.31-0.39 -> 0.20-0.25 ms (bench/RESULTS.md,
 * 2026-11-27 05:50 UTC). Not at launch: a start's scavenges (much survives them) are where the
 * helpers gain (+18 ms main-thread CPU without them). The flag is not in V8's flag hash, so compile
 * caches stay valid. None when the user set a scavenge flag on node's command line or in NODE_OPTIONS.
 */
export function servingV8Flags(execArgv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const userFlags = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  return userFlags.some((f) => f.includes('parallel-scavenge')) ? [] : ['--no-parallel-scavenge'];
}

/** log_rotate_bytes, log_rotate_duration and log_rotate_max_files for the log file. */
function logRotation(c: RuntimeConfig): { rotateBytes: number; rotateDurationMs: number; rotateMaxFiles: number } {
  const r = c.logRotate ?? { bytes: 0, durationMs: 0, maxFiles: 0 };
  return { rotateBytes: r.bytes, rotateDurationMs: r.durationMs, rotateMaxFiles: r.maxFiles };
}

/** The agent command. */
export const agentCommand: Command = {
  name: 'agent',
  synopsis: 'Runs a Consul agent',
  help: `Usage: proconsul agent [options]

  Starts the Consul-compatible agent and runs until an interrupt is received. The
  agent represents a single node in a cluster.

  $ proconsul agent -dev
  $ proconsul agent -server -bootstrap -data-dir=/var/lib/proconsul -config-dir=/etc/proconsul.d`,
  flags: agentFlagDefs,
  run,
};
