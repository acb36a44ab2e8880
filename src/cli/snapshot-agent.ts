// `proconsul snapshot agent`: the automated-backup daemon (Consul Enterprise's, open here).
// Several instances coordinate through a KV lock so one saves at a time; -interval=0 takes a
// single snapshot and exits, for batch jobs.
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { SnapshotAgent, type SnapshotAgentDeps } from './snapshot-agent-daemon.ts';
import { resolveSettings, settingsClient, SETTINGS_FLAGS } from './snapshot-agent-config.ts';
import { openStorage } from './snapshot-agent-storage.ts';
import { loginIfConfigured, type LoggedIn } from './snapshot-agent-login.ts';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Go's standard log prefix in local time, as Consul's documented output shows: `2016/11/16 21:21:13`. */
export function goLogTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * Runs the agent with an explicit stop signal (tests stop it without process signals) and, for
 * tests, a lock session TTL other than the API's 15s (Consul's snapshot agent has no option for it).
 */
export async function runSnapshotAgent(args: string[], io: CliIO, stop: AbortSignal, deps: Pick<SnapshotAgentDeps, 'lockSessionTTL'> = {}): Promise<number> {
  const out = ui(io);
  const flags = parseCommandFlags(snapshotAgentCommand.flags, args, io);
  if (!flags) return 1;
  let settings;
  try {
    settings = resolveSettings(flags);
  } catch (err) {
    out.error(`Error loading configuration: ${(err as Error).message}`);
    return 1;
  }
  const min = LEVELS.indexOf(settings.logLevel.toUpperCase());
  const log = (level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR', message: string): void => {
    if (LEVELS.indexOf(level) < min) return;
    const line = `${goLogTime(new Date())} [${level}] ${message}`;
    if (level === 'ERROR') out.error(line);
    else out.info(line);
  };
  let client;
  try {
    client = settingsClient(settings, io.env);
  } catch (err) {
    out.error(`Error connecting to Consul agent: ${(err as Error).message}`);
    return 1;
  }
  let session: LoggedIn;
  try {
    session = await loginIfConfigured(settings, client, io.env);
  } catch (err) {
    client.close();
    out.error((err as Error).message);
    return 1;
  }
  try {
    const storage = await openStorage(settings, io.env);
    return await new SnapshotAgent({ ...deps, client: session.client, settings, storage, log }).run(stop);
  } catch (err) {
    out.error(`Snapshot agent failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await session.close();
  }
}

/** The `snapshot agent` command. */
export const snapshotAgentCommand: Command = {
  name: 'snapshot agent',
  synopsis: 'Periodically saves snapshots of Consul server state',
  flags: [
    { name: 'config-file', kind: 'list', usage: 'File to read JSON (or, ending in ".hcl", HCL) configuration from: a "snapshot_agent" object. This can be specified multiple times.' },
    { name: 'config-dir', kind: 'list', usage: 'Directory to look for ".json" and ".hcl" config files, read in alphabetical order. This can be specified multiple times.' },
    ...SETTINGS_FLAGS,
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul snapshot agent [options]

  Starts a process that takes snapshots of the state of the Consul servers and
  saves them locally as consul-<unix-ns>.snap files, or uploads them to an S3
  bucket (any S3-compatible endpoint) under <-aws-s3-key-prefix>/consul-<unix-ns>.snap,
  keeping the newest -retain of them.

  As a long-running daemon, the agent registers itself as a service with a
  "Consul Snapshot Agent Alive" check and elects one active instance among all
  agents sharing the -lock-key; that one adds a "Consul Snapshot Agent Saving
  Snapshots" check. With -interval=0 it takes one snapshot and exits.

  If ACLs are enabled, the token needs acl = "write", key write on the lock
  key, session write on the agent's node and service write on its name.

  Take a snapshot every hour into /var/backups/consul, keeping 24:

      $ proconsul snapshot agent -interval=1h -retain=24 -local-path=/var/backups/consul

  Upload a snapshot every 30 minutes to a MinIO bucket, keeping 48:

      $ AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... proconsul snapshot agent \\
          -interval=30m -retain=48 -aws-s3-bucket=backups -aws-s3-region=us-east-1 \\
          -aws-s3-endpoint=https://minio.internal:9000 -aws-s3-force-path-style

  Take a single snapshot from a config file's settings:

      $ proconsul snapshot agent -config-file=snapshot.json -interval=0
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const ctl = new AbortController();
    const onSignal = (sig: NodeJS.Signals): void => ctl.abort(sig);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      return await runSnapshotAgent(args, io, ctl.signal);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
