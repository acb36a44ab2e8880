// `proconsul connect proxy` in-process against a test agent: plain TCP echo services that tag
// what they send back, proxies started through the CLI command, and a write-then-read exchange.
import net from 'node:net';
import { memoryIO } from '../../src/cli/io.ts';
import { connectProxyCommand, runConnectProxy } from '../../src/cli/connect-proxy.ts';
import { parseFlags } from '../../src/cli/flags.ts';
import type { Proxy } from '../../src/connect/proxy/index.ts';

/** Echo servers and proxies started for one test file; `close()` ends them all. */
export class ProxyRig {
  readonly #httpAddr: string;
  readonly #echoes: net.Server[] = [];
  readonly #stops: (() => void)[] = [];
  readonly #runs: Promise<number>[] = [];

  constructor(httpAddr: string) {
    this.#httpAddr = httpAddr;
  }

  /** A TCP server on 127.0.0.1 answering each chunk with `<tag>:<chunk>`; resolves to its port. */
  echo(tag: string): Promise<number> {
    const s = net.createServer((c) => c.on('data', (d) => c.write(`${tag}:${d.toString()}`)).on('error', () => c.destroy()));
    this.#echoes.push(s);
    return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)));
  }

  /** Runs `proconsul connect proxy <args>` (with `env` added) until `stop()` or close(); resolves once the proxy is up. */
  proxy(args: string[], env: Record<string, string> = {}): Promise<{ proxy: Proxy; io: ReturnType<typeof memoryIO>; stop: () => void }> {
    const io = memoryIO({ env: { CONSUL_HTTP_ADDR: this.#httpAddr, ...env } });
    let stop!: () => void;
    this.#stops.push(() => stop());
    return new Promise((resolve, reject) => {
      const run = runConnectProxy(parseFlags(connectProxyCommand.flags, args), io, new Promise<void>((r) => { stop = r; }), (proxy) => resolve({ proxy, io, stop }));
      this.#runs.push(run);
      run.then((code) => reject(new Error(`proxy exited ${code}: ${io.out}${io.err}`)), reject);
    });
  }

  /** Stops the proxies and closes the echo servers. */
  async close(): Promise<void> {
    for (const s of this.#stops) s();
    await Promise.allSettled(this.#runs);
    for (const e of this.#echoes) e.close();
  }
}

/** Sends `msg` and reads until the socket yields `want` bytes or closes; returns what it read. */
export function exchange(socket: net.Socket, msg: string, want: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (d) => { got += d.toString(); if (got.length >= want) resolve(got); });
    socket.on('close', () => resolve(got));
    socket.on('error', () => undefined);
    socket.write(msg);
  });
}
