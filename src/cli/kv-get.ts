// `proconsul kv get`: one value, a prefix (-recurse), key names (-keys), with -detailed and
// -base64 renderings, exactly as `consul kv get` prints them.

import type { ConsulClient, KVPair } from '../api/index.ts';
import { fail, withClient } from './client-command.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS, staleFlag } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { parseKeyCommand } from './kv-key.ts';

/** Renders a pair as `-detailed` does: Go's tabwriter with padding 6 over the field names. */
export function detailedPair(pair: KVPair, base64: boolean): string {
  const value = pair.Value === null ? '' : base64 ? pair.Value : Buffer.from(pair.Value, 'base64').toString('utf8');
  const rows: [string, string][] = [
    ['CreateIndex', String(pair.CreateIndex)],
    ['Flags', String(pair.Flags)],
    ['Key', pair.Key],
    ['LockIndex', String(pair.LockIndex)],
    ['ModifyIndex', String(pair.ModifyIndex)],
    ['Session', pair.Session ? pair.Session : '-'],
    // Consul Enterprise's answers carry the entry's partition and namespace.
    ...(pair.Partition ? [['Partition', pair.Partition] as [string, string]] : []),
    ...(pair.Namespace ? [['Namespace', pair.Namespace] as [string, string]] : []),
    ['Value', value],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 6;
  return rows.map(([k, v]) => k.padEnd(width) + v).join('\n');
}

function valueText(pair: KVPair, base64: boolean): string {
  if (base64) return pair.Value ?? '';
  return pair.Value === null ? '' : Buffer.from(pair.Value, 'base64').toString('utf8');
}

/** The `kv get` command. */
export const kvGetCommand: Command = {
  name: 'kv get',
  synopsis: 'Retrieves or lists data from the KV store',
  flags: [
    { name: 'base64', kind: 'bool', usage: 'Base64 encode the value. The default value is false.' },
    { name: 'detailed', kind: 'bool', usage: 'Provide additional metadata about the key in addition to the value such as the ModifyIndex and any flags that may have been set on the key. The default value is false.' },
    { name: 'keys', kind: 'bool', usage: 'List keys which start with the given prefix, but not their values. This is especially useful if you only need the key names themselves. This option is commonly combined with the -separator option. The default value is false.' },
    { name: 'recurse', kind: 'bool', usage: 'Recursively look at all keys prefixed with the given path. The default value is false.' },
    { name: 'separator', kind: 'string', default: '/', usage: 'String to use as a separator between keys. The default value is "/", but this option is only taken into account when paired with the -keys flag.' },
    ...HTTP_FLAGS,
    ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul kv get [options] [KEY_OR_PREFIX]

  Retrieves the value from Consul's key-value store at the given key name. If no
  key exists with that name, an error is returned. If a key exists with that
  name but has no data, nothing is returned. If the name or prefix is omitted,
  it defaults to "" which is the root of the key-value store.

  To retrieve the value for the key named "foo" in the key-value store:

      $ proconsul kv get foo

  This will return the original, raw value stored in Consul. To view detailed
  information about the key, specify the "-detailed" flag. This will output all
  known metadata about the key including ModifyIndex and any user-supplied
  flags:

      $ proconsul kv get -detailed foo

  To treat the path as a prefix and list all keys which start with the given
  prefix, specify the "-recurse" flag:

      $ proconsul kv get -recurse foo

  This will return all key-value pairs. To just list the keys which start with
  the specified prefix, use the "-keys" option instead:

      $ proconsul kv get -keys foo

  For a full list of options and examples, please see the Consul documentation.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const parsed = parseKeyCommand(this.flags, args, io);
    if (!parsed) return 1;
    const { flags, key } = parsed;
    const v = flags.values;
    if (key === '' && !(v.recurse || v.keys)) return fail(io, 'Error! Missing KEY argument');
    const mode = { keys: !!v.keys, recurse: !!v.recurse, detailed: !!v.detailed, base64: !!v.base64, separator: String(v.separator), stale: staleFlag(flags) };
    return withClient(flags, io, (client) => get(client, key, mode, ui(io)), 'Error querying Consul agent');
  },
};

interface GetMode { keys: boolean; recurse: boolean; detailed: boolean; base64: boolean; separator: string; stale: boolean }

async function get(client: ConsulClient, key: string, m: GetMode, out: ReturnType<typeof ui>): Promise<number> {
  if (m.keys) {
    const { data } = await client.kv.keys(key, m.separator, { stale: m.stale });
    for (const k of data) out.info(k);
    return 0;
  }
  if (m.recurse) {
    const { data } = await client.kv.list(key, { stale: m.stale });
    data.forEach((pair, i) => {
      if (m.detailed) {
        out.info(detailedPair(pair, m.base64));
        if (i < data.length - 1) out.info('');
      } else out.info(`${pair.Key}:${valueText(pair, m.base64)}`);
    });
    return 0;
  }
  const { data: pair } = await client.kv.get(key, { stale: m.stale });
  if (!pair) {
    out.error(`Error! No key exists at: ${key}`);
    return 1;
  }
  out.info(m.detailed ? detailedPair(pair, m.base64) : valueText(pair, false));
  return 0;
}
