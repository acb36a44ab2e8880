// `proconsul event`: fires a user event through the agent; it travels the gossip pool to every
// agent whose node name, services and tags match the filters.

import { EventApi } from '../api/event.ts';
import { withClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { failUi } from './catalog-flags.ts';

function badRegexp(what: string, re: string): string | null {
  try {
    new RegExp(re);
    return null;
  } catch (err) {
    return `Failed to compile ${what} filter regexp: ${(err as Error).message}`;
  }
}

/** The `event` command. */
export const eventCommand: Command = {
  name: 'event',
  synopsis: 'Fire a new event',
  flags: [
    { name: 'name', kind: 'string', usage: 'Name of the event.' },
    { name: 'node', kind: 'string', usage: 'Regular expression to filter on node names.' },
    { name: 'service', kind: 'string', usage: 'Regular expression to filter on service instances.' },
    { name: 'tag', kind: 'string', usage: 'Regular expression to filter on service tags. Must be used with -service.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul event [options] [payload]

  Dispatches a custom user event across a datacenter. An event must provide
  a name, but a payload is optional. Events support filtering using
  regular expressions on node name, service, and tag definitions.

      $ proconsul event -name=deploy v1.2.3
      $ proconsul event -name=restart -service=web -tag=blue
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const v = (k: string) => String(flags.values[k] ?? '');
    if (!v('name')) return out.fail('Event name must be specified');
    for (const f of ['node', 'service', 'tag']) {
      const bad = v(f) ? badRegexp(f, v(f)) : null;
      if (bad) return out.fail(bad);
    }
    if (v('tag') && !v('service')) return out.fail('Cannot provide tag filter without service filter.');
    if (flags.args.length > 1) return out.fail('Too many command line arguments.');
    return withClient(flags, io, async (client) => {
      const id = await new EventApi(client).fire(v('name'), flags.args[0] ?? null, { node: v('node'), service: v('service'), tag: v('tag') });
      out.info(`Event ID: ${id}`);
      return 0;
    }, 'Error firing event');
  },
};
