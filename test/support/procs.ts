// Real `proconsul` processes for integration tests: the binary, an agent's usual command line
// (node name, bind and client address, data dir, config file, info logs), output captured for
// timeout messages, and a SIGKILL of whatever is still running when the file ends.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The proconsul executable the tests start. */
export const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'proconsul.js');

/** What an agent process is started with. */
export interface AgentLaunch {
  node: string;
  /** Bind and client address. */
  ip: string;
  dataDir: string;
  configFile: string;
  /** -datacenter, when given. */
  datacenter?: string;
  /** Further flags: -server, -bootstrap, -retry-join… */
  extra?: string[];
}

/** `proconsul <args>` with stdout and stderr (as text) handed to `onOutput`. */
export function spawnProconsul(args: string[], onOutput: (text: string) => void): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => onOutput(c.toString()));
  child.stderr!.on('data', (c: Buffer) => onOutput(c.toString()));
  return child;
}

/** `proconsul agent` as `a` says, at log level info, its output handed to `onOutput`. */
export function spawnAgent(a: AgentLaunch, onOutput: (text: string) => void): ChildProcess {
  return spawnProconsul(['agent', '-node', a.node, ...(a.datacenter ? ['-datacenter', a.datacenter] : []), '-bind', a.ip, '-client', a.ip,
    '-data-dir', a.dataDir, '-config-file', a.configFile, '-log-level', 'info', ...(a.extra ?? [])], onOutput);
}

/** SIGKILLs each child that has not exited. */
export function killAll(children: (ChildProcess | undefined)[]): void {
  for (const c of children) if (c && c.exitCode === null) c.kill('SIGKILL');
}
