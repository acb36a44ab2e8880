// Child process of bench/dns.ts: an idle Node process that only measures its own event-loop
// delay, as a gauge of machine noise (CPU contention) beside the agent's figures. Each `stats`
// line on stdin is answered with `{"loopP99","loopMax"}` (ms) since the previous one.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import readline from 'node:readline';

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
readline.createInterface({ input: process.stdin }).on('line', () => {
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  process.stdout.write(`${JSON.stringify({ loopP99: ms(loop.percentile(99)), loopMax: ms(loop.max) })}\n`);
  loop.reset();
}).on('close', () => process.exit(0));
process.stdout.write('ready\n');
