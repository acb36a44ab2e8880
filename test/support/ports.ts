// Free ports for the processes tests start. A port asked from the kernel (bind to 0) comes from
// the ephemeral range, where any outgoing connection on the machine may take it as its source
// port between our check and the child's bind (seen in CI: etcd "address already in use"). So
// ports are drawn below the ephemeral range instead, checked free for TCP and UDP on 127.0.0.1,
// never one of Consul's or etcd's defaults, and never handed out twice by one test process.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

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

/** A port free for both TCP and UDP on 127.0.0.1, outside the kernel's ephemeral range. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (RESERVED.has(port) || given.has(port)) continue;
    if (!(await tcpFree(port)) || !(await udpFree(port))) continue;
    given.add(port);
    return port;
  }
}
