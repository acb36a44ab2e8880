// Bench agent processes run as `proconsul agent` does (bin/proconsul.js, src/cli/agent.ts), so the
// figures are the shipped agent's: V8's young generation held at its initial size, a flag that must
// be set before the agent's modules are parsed (so callers import them dynamically after
// `asCliAgent()`), and, once it serves, scavenges on the main thread alone and the idle-memory
// policy that lets V8 give back a burst's heap.
// `--v8-defaults` on a bench agent's command line leaves V8 as a plain `node` process has it.
import v8 from 'node:v8';

/** Sets the CLI agent's V8 flag unless `v8Defaults`; call before importing the agent's modules. */
export function asCliAgent(v8Defaults: boolean): void {
  if (!v8Defaults) v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * What the CLI agent sets once it serves, unless `v8Defaults`: main-thread scavenges and the
 * idle-memory policy (it runs until the process exits).
 */
export async function cliIdleMemory(v8Defaults: boolean): Promise<void> {
  if (v8Defaults) return;
  v8.setFlagsFromString('--no-parallel-scavenge');
  const { IdleMemory, processMemoryDeps } = await import('../../src/agent/idle-memory.ts');
  const { systemClock } = await import('../../src/clock.ts');
  const { silentLogger } = await import('../../src/log.ts');
  new IdleMemory({ ...processMemoryDeps(), setFlag: (f) => v8.setFlagsFromString(f), clock: systemClock, logger: silentLogger() });
}
