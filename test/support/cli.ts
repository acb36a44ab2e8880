// The CLI run in-process against a test agent: one call that captures a command's exit code and
// output, and a dev agent started and stopped around a block of CLI tests.
import { after, before } from 'node:test';
import { ConsulClient } from '../../src/api/index.ts';
import { memoryIO } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/registry.ts';
import { startDevAgent, type DevAgent } from './agent.ts';

/** What one CLI run left: its exit code, stdout and stderr. */
export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `proconsul <argv>` in-process with `env` and optional stdin, capturing its output. */
export async function runCliCaptured(argv: string[], env: NodeJS.ProcessEnv, stdin?: string | Buffer): Promise<CliResult> {
  const io = memoryIO({ env, stdin });
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

/** A dev agent for CLI tests, an API client to it, and the CLI pointed at it (valid once `before` ran). */
export interface CliAgent {
  readonly agent: DevAgent;
  readonly client: ConsulClient;
  /** The environment the CLI runs with: CONSUL_HTTP_ADDR of the agent. */
  readonly env: NodeJS.ProcessEnv;
  cli(argv: string[], stdin?: string | Buffer): Promise<CliResult>;
}

/**
 * Registers before/after hooks in the enclosing describe (or file) that start a dev agent and
 * stop it again, closing the client; use the returned object's fields inside tests only.
 */
export function cliAgent(opts: Parameters<typeof startDevAgent>[0] = {}): CliAgent {
  let agent: DevAgent | undefined;
  let client: ConsulClient | undefined;
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('cliAgent: the dev agent is not started yet (use it inside tests)');
    return v;
  };
  before(async () => {
    agent = await startDevAgent(opts);
    client = new ConsulClient({ address: agent.httpAddr });
  });
  after(async () => {
    client?.close();
    await agent?.stop();
  });
  const h: CliAgent = {
    get agent() { return ready(agent); },
    get client() { return ready(client); },
    get env() { return { CONSUL_HTTP_ADDR: ready(agent).httpAddr }; },
    cli: (argv, stdin) => runCliCaptured(argv, h.env, stdin),
  };
  return h;
}
