// Free ports for the processes tests start. A port asked from the kernel (bind to 0) comes from
// the ephemeral range, where any outgoing connection on the machine may take it as its source
// port between our check and the child's bind (seen in CI: etcd "address already in use"). So
// ports are drawn below the ephemeral range instead, checked free for TCP and UDP on 127.0.0.1,
// never one of Consul's or etcd's defaults, and never handed out twice by one test process.
// Nor by two: test processes running beside each other (a CI run beside other runs) each found
// a port free and both started a server on it (seen: a managed agent binding its HTTP port after
// a 14 s formation, by then taken by another run's agent), so each port handed out is claimed
// under /tmp/proconsul-test-ports/<port>/<pid> until the claiming process exits.
import dgram from 'node:dgram';
import fs, { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Ports other tests and Consul's defaults use. */
const RESERVED = new Set([8300, 8301, 8302, 8500, 8501, 8502, 8503, 8600, 2379, 2380]);
const given = new Set<number>();

/** The lowest ephemeral port (Linux's ip_local_port_range), 32768 when unknown. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}
const LOW = 10_000;
const HIGH = ephemeralLow() - 1;

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => { sock.close(); resolve(false); });
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

/** Where test processes claim the ports they hand out (shared by every checkout on the machine). */
export const CLAIMS_DIR = path.join(fs.existsSync('/tmp') ? '/tmp' : os.tmpdir(), 'proconsul-test-ports');
const claimed: string[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims `port` for this process: false when another live process holds a claim on it (claims of
 * exited processes are removed). Two processes claiming at once may both back off, never both win.
 * Without a writable claims directory every port counts as claimed (the bind check alone remains).
 */
export function claimPort(port: number): boolean {
  const dir = path.join(CLAIMS_DIR, String(port));
  const mine = path.join(dir, String(process.pid));
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(mine, '');
    const others = fs.readdirSync(dir).map(Number).filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
    for (const pid of others.filter((p) => !alive(p))) fs.rmSync(path.join(dir, String(pid)), { force: true });
    if (others.some(alive)) {
      fs.rmSync(mine, { force: true });
      return false;
    }
  } catch {
    return true;
  }
  if (claimed.length === 0) process.once('exit', () => { for (const f of claimed) fs.rmSync(f, { force: true }); });
  claimed.push(mine);
  return true;
}

/** A port free for both TCP and UDP on 127.0.0.1, outside the kernel's ephemeral range, claimed by no other test process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (RESERVED.has(port) || given.has(port)) continue;
    // Taken before the checks: calls running at once (a server's six ports) never share a port.
    given.add(port);
    if (await tcpFree(port) && await udpFree(port) && claimPort(port)) return port;
  }
}
