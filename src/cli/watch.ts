// `proconsul watch`: watch a view of Consul (key, keyprefix, services, nodes, service, checks, event)
// with blocking queries; with a child command it runs it on every change, otherwise it prints
// the current value as indented JSON and exits, as `consul watch` does. SIGINT/SIGTERM stop it.

import { asIs, step, withClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { usageWithFlags } from './usage.ts';
import { failUi } from './catalog-flags.ts';
import { goJson, runHandler } from './watch-handler.ts';
import { parseWatch, runPlan, type WatchParams } from './watch-plan.ts';
import type { ParsedFlags } from './flags.ts';

const HELP = `
Usage: proconsul watch [options] [child...]

  Watches for changes in a given data view from Consul. If a child process
  is specified, it will be invoked with the latest results on changes. Otherwise,
  the latest values are dumped to stdout and the watch terminates.

  Providing the watch type is required, and other parameters may be required
  or supported depending on the watch type.

      $ proconsul watch -type=key -key=config/app
      $ proconsul watch -type=service -service=web -passingonly=true ./on-change.sh
      $ proconsul watch -type=event -name=deploy ./on-deploy.sh
`;

/** The `watch` command. */
export const watchCommand: Command = {
  name: 'watch',
  synopsis: 'Watch for changes in Consul',
  flags: [
    { name: 'type', kind: 'string', usage: 'Specifies the watch type. One of key, keyprefix, services, nodes, service, checks, or event.' },
    { name: 'key', kind: 'string', usage: "Specifies the key to watch. Only for 'key' type." },
    { name: 'prefix', kind: 'string', usage: "Specifies the key prefix to watch. Only for 'keyprefix' type." },
    { name: 'service', kind: 'string', usage: "Specifies the service to watch. Required for 'service' type, optional for 'checks' type." },
    { name: 'tag', kind: 'list', usage: "Specifies the service tag(s) to filter on. Optional for 'service' type. May be specified multiple times" },
    { name: 'passingonly', kind: 'string', usage: "Specifies if only hosts passing all checks are displayed. Optional for 'service' type, must be one of `[true|false]`. Defaults false." },
    { name: 'shell', kind: 'bool', default: true, usage: 'Use a shell to run the command (can set a custom shell via the SHELL environment variable).' },
    { name: 'state', kind: 'string', usage: "Specifies the states to watch. Optional for 'checks' type." },
    { name: 'name', kind: 'string', usage: "Specifies an event name to watch. Only for 'event' type." },
    { name: 'filter', kind: 'string', usage: 'Filter to use with the request' },
    ...HTTP_FLAGS,
  ],
  help: HELP,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (!flags.values.type) {
      out.error('Watch type must be specified');
      out.error('');
      out.error(usageWithFlags(HELP, this.flags));
      return 1;
    }
    const params = watchParams(flags);
    if (typeof params === 'string') return out.fail(params);
    return withClient(flags, io, async (client) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const plan = await step(asIs, () => parseWatch(params, client));
        // Consul has no ping endpoint; the leader query needs no token and always answers.
        try {
          await client.status.leader({ signal: stop.signal });
        } catch (err) {
          return stop.signal.aborted ? 0 : out.fail(`Error querying Consul agent: ${(err as Error).message}`);
        }
        const state = { exit: 0 };
        await runPlan(plan, resultHandler(flags, io, state), { signal: stop.signal, onError: (type, err, retry) => watchErrored(io, type, err, retry) });
        return state.exit;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  },
};

/** Prints the first result and stops (no child), or runs the child on each; a failing child stops with exit 1. */
function resultHandler(flags: ParsedFlags, io: CliIO, state: { exit: number }): (index: bigint, result: unknown) => Promise<boolean> {
  const out = failUi(io);
  return async (index, result) => {
    if (flags.args.length === 0) {
      out.info(goJson(result, '    '));
      return false;
    }
    const error = await runHandler({ args: flags.args, shell: flags.values.shell !== false }, index, result, io);
    if (error) {
      state.exit = out.fail(error);
      return false;
    }
    return true;
  };
}

/** Collects the given flags into watch parameters as Consul's CLI does; a string is an error message. */
function watchParams(flags: ParsedFlags): WatchParams | string {
  const v = flags.values;
  const p: WatchParams = { type: String(v.type) };
  if (v.datacenter) p.datacenter = String(v.datacenter);
  for (const name of ['key', 'prefix', 'service', 'filter', 'state', 'name']) if (v[name]) p[name] = String(v[name]);
  const tags = v.tag as string[] | undefined;
  if (tags?.length) p.tag = tags;
  if (v.stale === true) p.stale = true;
  if (v.passingonly) {
    const b = goParseBool(String(v.passingonly));
    if (b === null) return `Failed to parse passingonly flag: strconv.ParseBool: parsing ${JSON.stringify(String(v.passingonly))}: invalid syntax`;
    p.passingonly = b;
  }
  return p;
}

/** Go's strconv.ParseBool. */
function goParseBool(s: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return null;
}

/** The plan's error line, in hclog's shape as Consul's watch logger prints it. */
function watchErrored(io: CliIO, type: string, err: Error, retryMs: number): void {
  io.stderr(`${new Date().toISOString()} [ERROR] watch: Watch errored: type=${type} error="${err.message}" retry=${retryMs / 1000}s\n`);
}
