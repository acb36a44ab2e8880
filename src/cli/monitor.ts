// `proconsul monitor`: streams the agent's log lines (GET /v1/agent/monitor) at -log-level,
// as text or -log-json, until interrupted (exit 0) or the agent ends the stream (exit 1).

import { withClient } from './client-command.ts';
import { HTTP_CLIENT_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `monitor` command. */
export const monitorCommand: Command = {
  name: 'monitor',
  synopsis: 'Stream logs from a Consul agent',
  flags: [
    { name: 'log-level', kind: 'string', default: 'INFO', usage: 'Log level of the agent.' },
    { name: 'log-json', kind: 'bool', usage: 'Output logs in JSON format.' },
    ...HTTP_CLIENT_FLAGS,
  ],
  help: `
Usage: proconsul monitor [options]

  Shows recent log messages of a Consul agent, and attaches to the agent,
  outputting log messages as they occur in real time. The monitor lets you
  listen for log levels that may be filtered out of the Consul agent. For
  example your agent may only be logging at INFO level, but with the monitor
  you can see the DEBUG level logs.

      $ proconsul monitor -log-level=debug
      $ proconsul monitor -log-json
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    return withClient(flags, io, async (client) => {
      const out = ui(io);
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        let lines: AsyncIterable<string>;
        try {
          lines = await client.agent.monitor(String(flags.values['log-level']), flags.values['log-json'] === true, { signal: stop.signal });
        } catch (err) {
          if (stop.signal.aborted) return 0;
          out.error(`Error starting monitor: ${(err as Error).message}`);
          return 1;
        }
        for await (const line of lines) out.info(line);
        if (stop.signal.aborted) return 0;
        out.info('');
        out.info('Remote side ended the monitor! This usually means that the\nremote side has exited or crashed.');
        return 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  },
};
