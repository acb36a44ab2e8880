// Remote exec's job runner (Consul's agent/remote_exec.go handleRemoteExec): reads the job under
// <prefix>/<session>/job, acks, runs the command or script and uploads its output in chunks (or
// empty heartbeats) and finally its exit code, every key locked by the session.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { UserEvent } from './events.ts';
import type { RemoteExecDeps } from './remote-exec.ts';

/** Output is uploaded in chunks of this size... */
const OUTPUT_CHUNK = 4 * 1024;
/** ...or after this long without more output. */
const OUTPUT_IDLE_MS = 500;

/** The job a `consul exec` uploads (Consul's remoteExecSpec; Wait in nanoseconds, Script base64). */
interface ExecSpec {
  Command?: string;
  Args?: string[];
  Script?: string;
  Wait?: number;
}

function kvUrl(...parts: string[]): string {
  const key = path.posix.join(...parts).replace(/^\/+/, '');
  return `/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Runs the job one `_rexec` event names. */
export async function runRemoteExec(deps: RemoteExecDeps, ev: UserEvent): Promise<void> {
  const log = deps.logger;
  log.debug({ event_id: ev.ID }, 'received remote exec event');
  let event: { Prefix?: string; Session?: string };
  try {
    event = JSON.parse(Buffer.from(ev.Payload ?? '', 'base64').toString('utf8')) as typeof event;
  } catch (err) {
    log.error({ error: (err as Error).message }, 'failed to decode remote exec event');
    return;
  }
  const prefix = event.Prefix ?? '';
  const session = event.Session ?? '';
  const spec = await jobSpec(deps, prefix, session);
  if (!spec) return;
  const write = async (suffix: string, value: Buffer): Promise<void> => {
    const res = await deps.api('PUT', `${kvUrl(prefix, session, deps.nodeName, suffix)}?acquire=${encodeURIComponent(session)}`, value);
    if (res.status !== 200) throw new Error(res.body.toString('utf8').trim() || `status ${res.status}`);
    if (res.body.toString('utf8').trim() !== 'true') throw new Error('write failed');
  };
  try {
    await write('ack', Buffer.alloc(0));
  } catch (err) {
    log.error({ error: (err as Error).message }, 'failed to ack remote exec job');
    return;
  }
  // A job that could not be started (no temp file for its script) reports 255, as Consul's does.
  let exitCode = 255;
  try {
    exitCode = await execute(deps, spec, write);
  } finally {
    await write('exit', Buffer.from(String(exitCode))).catch((err: Error) => log.error({ error: err.message }, 'failed to write exit code for remote exec job'));
  }
}

/** Reads the job, stale first and then consistent, as Consul does; null when it is missing or unreadable. */
async function jobSpec(deps: RemoteExecDeps, prefix: string, session: string): Promise<ExecSpec | null> {
  const url = `${kvUrl(prefix, session, 'job')}?raw`;
  let res = await deps.api('GET', `${url}&stale`);
  if (res.status === 404) {
    deps.logger.debug({}, 'trying consistent fetch of remote exec job spec');
    res = await deps.api('GET', url);
  }
  if (res.status === 404) {
    deps.logger.debug({}, 'remote exec aborted, job spec missing');
    return null;
  }
  if (res.status !== 200) {
    deps.logger.error({ error: res.body.toString('utf8').trim() }, 'failed to get remote exec job');
    return null;
  }
  let spec: unknown;
  try {
    spec = JSON.parse(res.body.toString('utf8'));
  } catch (err) {
    deps.logger.error({ error: (err as Error).message }, 'failed to decode remote exec spec');
    return null;
  }
  const bad = specError(spec);
  if (bad) {
    deps.logger.error({ error: bad }, 'failed to decode remote exec spec');
    return null;
  }
  return spec as ExecSpec;
}

/** What Go's json.Unmarshal into remoteExecSpec would refuse (wrong field types); null when the spec decodes. */
function specError(spec: unknown): string | null {
  if (spec === null) return null;
  if (typeof spec !== 'object' || Array.isArray(spec)) return 'cannot unmarshal into remoteExecSpec';
  const s = spec as Record<string, unknown>;
  const str = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';
  if (!str(s.Command)) return 'Command: not a string';
  if (!str(s.Script)) return 'Script: not a string';
  if (s.Args !== undefined && s.Args !== null && !(Array.isArray(s.Args) && s.Args.every((a) => typeof a === 'string'))) return 'Args: not a list of strings';
  if (s.Wait !== undefined && s.Wait !== null && !(typeof s.Wait === 'number' && Number.isInteger(s.Wait))) return 'Wait: not an integer duration';
  return null;
}

/** Runs the job, uploading output as it comes; resolves to the exit code (255 when it could not run). */
async function execute(deps: RemoteExecDeps, spec: ExecSpec, write: (suffix: string, value: Buffer) => Promise<void>): Promise<number> {
  let script = spec.Command ?? '';
  let tmp: string | null = null;
  if (spec.Script) {
    tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rexec')), 'script');
    fs.writeFileSync(tmp, Buffer.from(spec.Script, 'base64'), { mode: 0o750 });
    script = tmp;
  }
  try {
    deps.logger.info({ script }, 'remote exec');
    let child: ChildProcess;
    try {
      child = spec.Args && spec.Args.length > 0
        ? spawn(spec.Args[0], spec.Args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(process.env.SHELL || '/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      deps.logger.debug({ error: (err as Error).message }, 'failed to start remote exec');
      return 255;
    }
    return await upload(child, spec, write, deps.logger);
  } finally {
    if (tmp) fs.rmSync(path.dirname(tmp), { recursive: true, force: true });
  }
}

/**
 * Chunks stdout and stderr together, writes each chunk (or a heartbeat per quiet Wait) under
 * out/%05x. A failed write ends the job at once with 255 but, as in Consul, leaves the command
 * running (its output is still drained, no longer uploaded): the caller going away must not kill
 * a half-done command on every node.
 */
function upload(child: ChildProcess, spec: ExecSpec, write: (suffix: string, value: Buffer) => Promise<void>, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let num = 0;
    let chain: Promise<void> = Promise.resolve();
    let failed = false;
    let idle: NodeJS.Timeout | null = null;
    const waitMs = Math.floor((spec.Wait ?? 0) / 1e6);
    const heartbeatMs = waitMs > 0 ? waitMs : 2_000;
    const send = (chunk: Buffer): void => {
      if (failed) return;
      const n = num++;
      chain = chain.then(async () => {
        if (failed) return;
        try {
          await write(`out/${n.toString(16).padStart(5, '0')}`, chunk);
        } catch (err) {
          failed = true;
          log.error({ error: (err as Error).message }, 'failed to write output for remote exec job');
          clearInterval(beat);
          if (idle) clearTimeout(idle);
          idle = null;
          resolve(255);
        }
      });
      beat.refresh();
    };
    const flush = (): void => {
      if (idle) clearTimeout(idle);
      idle = null;
      if (buf.length === 0) return;
      const chunk = buf;
      buf = Buffer.alloc(0);
      send(chunk);
    };
    // Acts as a heartbeat while the command is quiet, as Consul's wait loop does.
    const beat = setInterval(() => send(Buffer.alloc(0)), heartbeatMs);
    const onData = (data: Buffer): void => {
      if (failed) return;
      buf = Buffer.concat([buf, data]);
      while (buf.length >= OUTPUT_CHUNK) {
        send(buf.subarray(0, OUTPUT_CHUNK));
        buf = buf.subarray(OUTPUT_CHUNK);
      }
      if (idle) clearTimeout(idle);
      idle = setTimeout(flush, OUTPUT_IDLE_MS);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    let startFailed = false;
    child.on('error', (err) => {
      startFailed = true;
      log.debug({ error: err.message }, 'failed to start remote exec');
    });
    child.on('close', (code, signal) => {
      flush();
      clearInterval(beat);
      // Go's WaitStatus.ExitStatus is -1 for a process ended by a signal.
      const exit = startFailed ? 255 : code ?? (signal ? -1 : 1);
      void chain.then(() => resolve(failed ? 255 : exit));
    });
  });
}
