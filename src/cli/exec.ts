// `proconsul exec`: runs a command on the agents that match -node/-service/-tag (Consul's remote
// exec): a session, the job under <prefix>/<session>/job, a `_rexec` user event, then each
// node's ack, output and exit code read back from KV until -wait passes without news.

import { EventApi } from '../api/event.ts';
import type { ConsulClient } from '../api/index.ts';
import { withClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, readAll, type CliIO, type Command } from './io.ts';
import { commandHelp } from './usage.ts';
import { execResults, type ExecConf, type ExecNews } from './exec-results.ts';

const TTL = '15s';
const RENEW_MS = 5_000;

const HELP = `
Usage: proconsul exec [options] [-|command...]

  Evaluates a command on remote Consul nodes. The nodes responding can
  be filtered using regular expressions on node name, service, and tag
  definitions. If a command is '-', stdin will be read until EOF
  and used as a script input.

  Agents run remote commands only with disable_remote_exec = false.

      $ proconsul exec -node=web uptime
      $ proconsul exec -service=redis -tag=primary - < maintenance.sh
`;

/** Consul's TargetedUI lines: `==> node: text` (arrow) or `    node: text`, trailing space trimmed. */
export function targeted(node: string, message: string, arrow: boolean): string {
  const head = arrow ? '==>' : '   ';
  return message.split('\n').map((l) => `${head} ${node}: ${l}`).join('\n').replace(/\s+$/u, '');
}

function checkFilters(c: { node: string; service: string; tag: string }): string | null {
  const tries: [string, string][] = [[c.node, 'node'], [c.service, 'service'], [c.tag, 'tag']];
  for (const [re, what] of tries) {
    if (!re) continue;
    try {
      new RegExp(re);
    } catch (err) {
      return `Failed to compile ${what} filter regexp: ${(err as Error).message}`;
    }
  }
  if (c.tag && !c.service) return 'Cannot provide tag filter without service filter.';
  return null;
}

/** The `exec` command. */
export const execCommand: Command = {
  name: 'exec',
  synopsis: 'Executes a command on Consul nodes',
  flags: [
    { name: 'node', kind: 'string', usage: 'Regular expression to filter on node names.' },
    { name: 'service', kind: 'string', usage: 'Regular expression to filter on service instances.' },
    { name: 'tag', kind: 'string', usage: 'Regular expression to filter on service tags. Must be used with -service.' },
    { name: 'prefix', kind: 'string', default: '_rexec', usage: 'Prefix in the KV store to use for request data.' },
    { name: 'shell', kind: 'bool', default: true, usage: 'Use a shell to run the command.' },
    { name: 'wait', kind: 'duration', default: 2_000, usage: 'Period to wait with no responses before terminating execution.' },
    { name: 'wait-repl', kind: 'duration', default: 200, usage: 'Period to wait for replication before firing event. This is an optimization to allow stale reads to be performed.' },
    { name: 'verbose', kind: 'bool', usage: 'Enables verbose output.' },
    ...HTTP_FLAGS,
  ],
  help: HELP,
  async run(args: string[], io: CliIO): Promise<number> {
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const err = (s: string): void => io.stderr(`${s}\n`);
    const v = (n: string): string => String(flags.values[n] ?? '');
    const conf: ExecConf = {
      node: v('node'), service: v('service'), tag: v('tag'), prefix: v('prefix'), verbose: flags.values.verbose === true,
      waitMs: Number(flags.values.wait), replWaitMs: Number(flags.values['wait-repl']),
    };
    const spec: { Command?: string; Args?: string[]; Script?: string; Wait: number } = { Wait: conf.waitMs * 1e6 };
    const cmd = flags.args.join(' ');
    const usage = (): string => commandHelp(this, []);
    if (cmd === '-') {
      if (flags.values.shell === false) {
        err('Cannot configure -shell=false when reading from stdin');
        return 1;
      }
      spec.Script = (await readAll(io.stdin)).toString('base64');
    } else if (flags.values.shell === false) {
      if (flags.args.length) spec.Args = flags.args;
    } else if (cmd) {
      spec.Command = cmd;
    }
    if (!spec.Command && !spec.Script && !spec.Args) {
      err('Must specify a command to execute');
      err('');
      err(usage());
      return 1;
    }
    const bad = checkFilters(conf);
    if (bad) {
      err(bad);
      return 1;
    }
    return withClient(flags, io, (client) => runExec(client, conf, spec, io));
  },
};

/** Session, upload, event, results and clean-up; the exit code (2 when a node failed or did not finish). */
async function runExec(client: ConsulClient, conf: ExecConf, spec: object, io: CliIO): Promise<number> {
  const out = (s: string): void => io.stdout(`${s}\n`);
  const err = (s: string): void => io.stderr(`${s}\n`);
  let self: { Config: { Datacenter: string; NodeName: string } };
  try {
    self = (await client.agent.self()).data;
  } catch (e) {
    err(`Error querying Consul agent: ${(e as Error).message}`);
    return 1;
  }
  const dc = client.config.datacenter;
  const foreign = !!dc && dc !== self.Config.Datacenter;
  if (foreign && conf.verbose) out('Remote exec in foreign datacenter, using Session TTL');
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let session = '';
  try {
    try {
      session = await createSession(client, foreign ? { node: self.Config.NodeName, dc: self.Config.Datacenter } : null, conf, out, dc);
    } catch (e) {
      err(`Failed to create session: ${(e as Error).message}`);
      return 1;
    }
    renewEvery(client, session, stop.signal, err);
    if (conf.verbose) out(`Created remote execution session: ${session}`);
    const dir = `${conf.prefix}/${session}`;
    try {
      const ok = (await client.kv.put(`${dir}/job`, JSON.stringify(spec), { acquire: session })).data;
      if (!ok) throw new Error(`failed to acquire key ${dir}/job`);
    } catch (e) {
      err(`Failed to create job file: ${(e as Error).message}`);
      return 1;
    }
    try {
      if (conf.verbose) out('Uploaded remote execution spec');
      await new Promise<void>((r) => {
        const t = setTimeout(r, conf.replWaitMs);
        stop.signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
      });
      if (stop.signal.aborted) return 1;
      let id: string;
      try {
        const payload = JSON.stringify({ Prefix: conf.prefix, Session: session });
        id = await new EventApi(client).fire('_rexec', payload, { node: conf.node || undefined, service: conf.service || undefined, tag: conf.tag || undefined });
      } catch (e) {
        err(`Failed to fire event: ${(e as Error).message}`);
        return 1;
      }
      if (conf.verbose) out(`Fired remote execution event: ${id}`);
      return await waitForJob(client, conf, dir, io, stop.signal);
    } finally {
      // The session goes first, so no agent can still acquire a key under the tree being deleted.
      await client.session.destroy(session).catch(() => undefined);
      await client.kv.delete(dir, { recurse: true }).catch(() => undefined);
    }
  } finally {
    stop.abort();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (session) await client.session.destroy(session).catch(() => undefined);
  }
}

/** Renews the session every 5 s until `signal`; the first failure is printed and ends the renewals. */
function renewEvery(client: ConsulClient, session: string, signal: AbortSignal, err: (s: string) => void): void {
  const timer = setInterval(() => {
    client.session.renew(session).catch((e: Error) => {
      if (signal.aborted) return;
      clearInterval(timer);
      err(`Session renew failed: ${e.message}`);
    });
  }, RENEW_MS);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}

/** Consul's session: local ("Remote Exec") or, for another datacenter, bound to one of its servers. */
async function createSession(
  client: ConsulClient, foreign: { node: string; dc: string } | null, conf: ExecConf, out: (s: string) => void, dc: string | undefined,
): Promise<string> {
  if (!foreign) return (await client.session.create({ Name: 'Remote Exec', Behavior: 'delete', TTL })).data;
  let servers;
  try {
    servers = (await client.health.service('consul', { passing: true })).data;
  } catch (e) {
    throw new Error(`Failed to find Consul server in remote datacenter: ${(e as Error).message}`);
  }
  if (servers.length === 0) throw new Error('Failed to find Consul server in remote datacenter');
  const node = servers[0].Node.Node;
  if (conf.verbose) out(`Binding session to remote node ${node}@${dc}`);
  return (await client.session.createNoChecks({ Name: `Remote Exec via ${foreign.node}@${foreign.dc}`, Node: node, Behavior: 'delete', TTL })).data;
}

/** Prints each node's news until -wait (doubled while nodes are still working) passes quietly. */
async function waitForJob(client: ConsulClient, conf: ExecConf, dir: string, io: CliIO, signal: AbortSignal): Promise<number> {
  const start = Date.now();
  const results = execResults(client, conf, `${dir}/`, (s) => io.stderr(`${s}\n`), signal);
  let acks = 0;
  let exits = 0;
  let bad = 0;
  try {
    for (;;) {
      const news: ExecNews | 'quiet' | 'failed' | 'stopped' = await results.next(acks > exits ? conf.waitMs * 2 : conf.waitMs);
      if (news === 'failed' || news === 'stopped') return 1;
      if (news === 'quiet') {
        io.stdout(`${exits} / ${acks} node(s) completed / acknowledged\n`);
        if (conf.verbose) io.stdout(`Completed in ${((Date.now() - start) / 1000).toFixed(2)} seconds\n`);
        if (exits < acks) bad++;
        return bad > 0 ? 2 : 0;
      }
      if (news.kind === 'ack') {
        acks++;
        if (conf.verbose) io.stdout(`${targeted(news.node, 'acknowledged', true)}\n`);
      } else if (news.kind === 'heartbeat') {
        if (conf.verbose) io.stdout(`${targeted(news.node, 'heartbeat received', true)}\n`);
      } else if (news.kind === 'output') {
        io.stdout(`${targeted(news.node, news.output, false)}\n`);
      } else {
        exits++;
        io.stdout(`${targeted(news.node, `finished with exit code ${news.code}`, true)}\n`);
        if (news.code !== 0) bad++;
      }
    }
  } finally {
    results.close();
  }
}
