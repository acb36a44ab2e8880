// Child process of bench/dns.ts: Node's own UDP floor. Answers each datagram with its own bytes,
// QR bit set (a well-formed NOERROR reply with no records), with no lookup at all: the peak a DNS
// server written on node:dgram could reach on this machine, one socket on the main thread as the
// agent's. Usage: node bench/udp-echo.ts PORT; prints `ready` once bound.
import dgram from 'node:dgram';

const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
sock.on('message', (msg, rinfo) => {
  msg[2] |= 0x80;
  sock.send(msg, rinfo.port, rinfo.address);
});
sock.bind(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\n'));
process.stdin.on('close', () => process.exit(0)).resume();
