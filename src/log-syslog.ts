// Log lines to the local syslog (enable_syslog, syslog_facility), as Consul's logging.Setup does
// through go-syslog and Go's log/syslog: datagrams to the first of /dev/log, /var/run/syslog,
// /var/run/log that is there (Consul tries 12 more times, 5 s apart, before giving up), each
// `<PRI>Jan _2 15:04:05 consul[pid]: message\n` (RFC 3164's local form, no hostname). The level
// in brackets picks the severity one step below hclog's (INFO is notice, DEBUG is info), and the
// message is what follows it.
import fs from 'node:fs';
import { DgramSocket } from 'node-unix-socket';

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

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.Stamp ("Jan _2 15:04:05") in local time. */
export function goStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

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
  now?: () => Date;
  /** Waits between attempts to find the socket (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
  /** Attempts after the first (Consul: 12, 5 s apart). */
  retries?: number;
}

/** A connection to the local syslog; write() takes the agent's rendered log lines. */
export class Syslog {
  readonly #socket = new DgramSocket();
  readonly #path: string;
  readonly #facility: number;
  readonly #tag: string;
  readonly #pid: number;
  readonly #now: () => Date;

  private constructor(path: string, facility: number, o: SyslogOptions) {
    this.#path = path;
    this.#facility = facility;
    this.#tag = o.tag ?? 'consul';
    this.#pid = o.pid ?? process.pid;
    this.#now = o.now ?? (() => new Date());
    // A datagram the syslog daemon could not take is dropped, as the agent's other sinks drop theirs.
    this.#socket.on('error', () => undefined);
  }

  /** Finds the syslog socket (retrying as Consul does); throws `Syslog setup failed: …`. */
  static async open(o: SyslogOptions): Promise<Syslog> {
    const name = o.facility.toUpperCase();
    const facility = FACILITIES[name];
    if (facility === undefined) throw new Error(`Syslog setup failed: invalid syslog facility: ${name}`);
    const paths = o.paths ?? SYSLOG_PATHS;
    const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const retries = o.retries ?? 12;
    for (let i = 0; ; i++) {
      const path = paths.find(isSocket);
      if (path) return new Syslog(path, facility, o);
      if (i >= retries) throw new Error('Syslog setup failed: Unix syslog delivery error');
      await sleep(5000);
    }
  }

  /** Sends one log line (the text the agent prints, or its JSON line). */
  write(line: string): void {
    const { severity, message } = syslogMessage(line);
    const nl = message.endsWith('\n') ? '' : '\n';
    const b = Buffer.from(`<${this.#facility * 8 + severity}>${goStamp(this.#now())} ${this.#tag}[${this.#pid}]: ${message}${nl}`);
    this.#socket.sendTo(b, 0, b.length, this.#path, () => undefined);
  }

  close(): void {
    this.#socket.close();
  }
}

function isSocket(p: string): boolean {
  try {
    return fs.statSync(p).isSocket();
  } catch {
    return false;
  }
}
