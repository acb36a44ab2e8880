// Log lines to the local syslog (enable_syslog, syslog_facility), as Consul's logging.Setup does
// through go-syslog and Go's log/syslog: to the first of /dev/log, /var/run/syslog, /var/run/log
// that is there (Consul tries 12 more times, 5 s apart, before giving up), each record
// `<PRI>Jan _2 15:04:05 consul[pid]: message` (RFC 3164's local form, no hostname). The level in
// brackets picks the severity one step below hclog's (INFO is notice, DEBUG is info), and the
// message is what follows it.
//
// Node has no unix datagram sockets, which /dev/log is, so the records go through one long-lived
// `logger` process (util-linux, in Debian's essential bsdutils): `--prio-prefix` takes each line's
// <PRI> from us, and its local format is Go's to the byte. Lines are dropped, as the agent's other
// sinks drop theirs, while a slow syslog leaves more than 1 MiB unsent.
import fs from 'node:fs';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Writable } from 'node:stream';

/** go-syslog's facility names (case-insensitive) and their codes. */
const FACILITIES: Record<string, number> = {
  KERN: 0, USER: 1, MAIL: 2, DAEMON: 3, AUTH: 4, SYSLOG: 5, LPR: 6, NEWS: 7, UUCP: 8, CRON: 9, AUTHPRIV: 10, FTP: 11,
  LOCAL0: 16, LOCAL1: 17, LOCAL2: 18, LOCAL3: 19, LOCAL4: 20, LOCAL5: 21, LOCAL6: 22, LOCAL7: 23,
};

/** Consul's levelPriority: hclog level → syslog severity (unknown levels are notice). */
const SEVERITY: Record<string, number> = { TRACE: 7, DEBUG: 6, INFO: 5, WARN: 4, ERROR: 3, CRIT: 2 };
const NOTICE = 5;

/** Go's log/syslog looks for the local syslog here, in this order. */
export const SYSLOG_PATHS = ['/dev/log', '/var/run/syslog', '/var/run/log'];

/** The priority and message Consul's SyslogWrapper makes of one log line. */
export function syslogMessage(line: string): { severity: number; message: string } {
  const x = line.indexOf('[');
  if (x >= 0) {
    const y = line.indexOf(']', x);
    if (y >= 0) {
      return { severity: SEVERITY[line.slice(x + 1, y)] ?? NOTICE, message: line.slice(y + 2).replace(/^ +/, '') };
    }
  }
  return { severity: NOTICE, message: line };
}

/** How to reach syslog; tests inject the socket paths, the clock and the sleep. */
export interface SyslogOptions {
  /** syslog_facility (Consul's default LOCAL0). */
  facility: string;
  /** Where to look for the syslog socket (default SYSLOG_PATHS). */
  paths?: string[];
  tag?: string;
  pid?: number;
  /** The logger program (default `logger`). */
  program?: string;
  /** Waits between attempts to find the socket (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
  /** Attempts after the first (Consul: 12, 5 s apart). */
  retries?: number;
}

/** Unsent bytes past which lines are dropped. */
const MAX_BACKLOG = 1024 * 1024;

/** A connection to the local syslog; write() takes the agent's rendered log lines. */
export class Syslog {
  readonly #child: ChildProcessByStdio<Writable, null, null>;
  readonly #facility: number;

  private constructor(child: ChildProcessByStdio<Writable, null, null>, facility: number) {
    this.#child = child;
    this.#facility = facility;
    // A record the syslog daemon could not take is dropped, as the agent's other sinks drop theirs.
    child.stdin.on('error', () => undefined);
  }

  /** Finds the syslog socket (retrying as Consul does) and starts the writer; throws `Syslog setup failed: …`. */
  static async open(o: SyslogOptions): Promise<Syslog> {
    const name = o.facility.toUpperCase();
    const facility = FACILITIES[name];
    if (facility === undefined) throw new Error(`Syslog setup failed: invalid syslog facility: ${name}`);
    const paths = o.paths ?? SYSLOG_PATHS;
    const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const retries = o.retries ?? 12;
    for (let i = 0; ; i++) {
      const path = paths.find(isSocket);
      if (path) return new Syslog(await startLogger(o.program ?? 'logger', path, o.tag ?? 'consul', o.pid ?? process.pid), facility);
      if (i >= retries) throw new Error('Syslog setup failed: Unix syslog delivery error');
      await sleep(5000);
    }
  }

  /** Sends one log line (the text the agent prints, or its JSON line). */
  write(line: string): void {
    const stdin = this.#child.stdin;
    if (stdin.destroyed || stdin.writableLength > MAX_BACKLOG) return;
    const { severity, message } = syslogMessage(line);
    const pri = `<${this.#facility * 8 + severity}>`;
    // logger reads one record per line: a message's later lines keep its priority.
    stdin.write(message.replace(/\n$/, '').split('\n').map((l) => pri + l + '\n').join(''));
  }

  close(): void {
    this.#child.stdin.end();
  }
}

/** Starts `logger` writing to `path`; rejects with Consul's setup error when it cannot run. */
function startLogger(program: string, path: string, tag: string, pid: number): Promise<ChildProcessByStdio<Writable, null, null>> {
  const child = spawn(program, ['--prio-prefix', '-t', tag, `--id=${pid}`, '-u', path], { stdio: ['pipe', 'ignore', 'ignore'] });
  // The writer must not keep a stopping agent alive.
  child.unref();
  (child.stdin as Writable & { unref?(): void }).unref?.();
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child));
    child.once('error', (err) => reject(new Error(`Syslog setup failed: ${err.message}`)));
  });
}

function isSocket(p: string): boolean {
  try {
    return fs.statSync(p).isSocket();
  } catch {
    return false;
  }
}
