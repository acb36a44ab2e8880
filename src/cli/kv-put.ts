// `proconsul kv put`: write a value from an argument, a file (@path) or stdin (-), plain or
// check-and-set, or acquire/release a lock, with `consul kv put`'s messages and exit codes.

import { readFile } from 'node:fs/promises';
import type { ConsulClient } from '../api/index.ts';
import { goFileError } from '../api/errors.ts';
import { withClient } from './client-command.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, readAll, ui, type CliIO, type Command } from './io.ts';
import { decodeBase64Strict } from './kv-entry.ts';

/** Resolves `KEY [DATA]`: DATA may be `@file`, `-` (stdin) or literal; throws with Consul's message. */
export async function dataFromArgs(args: string[], stdin: NodeJS.ReadableStream): Promise<{ key: string; data: Buffer }> {
  if (args.length === 0) throw new Error('Missing KEY argument');
  if (args.length > 2) throw new Error(`Too many arguments (expected 1 or 2, got ${args.length})`);
  const [key, data = ''] = args;
  if (data.startsWith('@')) {
    try {
      return { key, data: await readFile(data.slice(1)) };
    } catch (err) {
      throw new Error(`Failed to read file: ${goFileError(err as NodeJS.ErrnoException, data.slice(1))}`, { cause: err });
    }
  }
  if (data === '-') {
    try {
      return { key, data: await readAll(stdin) };
    } catch (err) {
      throw new Error(`Failed to read stdin: ${(err as Error).message}`, { cause: err });
    }
  }
  return { key, data: Buffer.from(data) };
}

/** The `kv put` command. */
export const kvPutCommand: Command = {
  name: 'kv put',
  synopsis: 'Sets or updates data in the KV store',
  flags: [
    { name: 'cas', kind: 'bool', usage: 'Perform a Check-And-Set operation. Specifying this value also requires the -modify-index flag to be set. The default value is false.' },
    { name: 'flags', kind: 'uint', default: 0, usage: 'Unsigned integer value to assign to this key-value pair. This value is not read by Consul, so clients can use this value however makes sense for their use case. The default value is 0 (no flags).' },
    { name: 'base64', kind: 'bool', usage: 'Treat the data as base 64 encoded. The default value is false.' },
    { name: 'modify-index', kind: 'uint', default: 0, usage: 'Unsigned integer representing the ModifyIndex of the key. This is used in combination with the -cas flag.' },
    { name: 'session', kind: 'string', usage: 'User-defined identifer for this session as a string. This is commonly used with the -acquire and -release operations to build robust locking, but it can be set on any key. The default value is empty (no session).' },
    { name: 'acquire', kind: 'bool', usage: 'Obtain a lock on the key. If the key does not exist, this operation will create the key and obtain the lock. The session must already exist and be specified via the -session flag. The default value is false.' },
    { name: 'release', kind: 'bool', usage: 'Forfeit the lock on the key at the given path. This requires the -session flag to be set. The key must be held by the session in order to be unlocked. The default value is false.' },
    ...HTTP_FLAGS,
    ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul kv put [options] KEY [DATA]

  Writes the data to the given path in the key-value store. The data can be of
  any type.

      $ proconsul kv put config/redis/maxconns 5

  The data can also be consumed from a file on disk by prefixing with the "@"
  symbol. For example:

      $ proconsul kv put config/program/license @license.lic

  Or it can be read from stdin using the "-" symbol:

      $ echo "abcd1234" | proconsul kv put config/program/license -

  The DATA argument itself is optional. If omitted, this will create an empty
  key-value pair at the specified path:

      $ proconsul kv put webapp/beta/active

  If the -base64 flag is specified, the data will be treated as base 64
  encoded.

  To perform a Check-And-Set operation, specify the -cas flag with the
  appropriate -modify-index flag corresponding to the key you want to perform
  the CAS operation on:

      $ proconsul kv put -cas -modify-index=844 config/redis/maxconns 5

  Additional flags and more advanced use cases are detailed below.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    let key: string;
    let data: Buffer;
    try {
      ({ key, data } = await dataFromArgs(flags.args, io.stdin));
    } catch (err) {
      out.error(`Error! ${(err as Error).message}`);
      return 1;
    }
    const v = flags.values;
    if (v.base64) {
      try {
        data = decodeBase64Strict(data.toString('utf8'));
      } catch (err) {
        // Consul prints this and then writes whatever decoded; refusing to write is the safe reading.
        out.error(`Error! Cannot base 64 decode data: ${(err as Error).message}`);
        return 1;
      }
    }
    const session = String(v.session ?? '');
    if ((v.release || v.acquire) && session === '') {
      out.error('Error! Missing -session (required with -acquire and -release)');
      return 1;
    }
    const modifyIndex = Number(v['modify-index']);
    if (v.cas && modifyIndex === 0) {
      out.error('Must specify -modify-index with -cas!');
      return 1;
    }
    return withClient(flags, io, async (client) => {
      return await put(client, key, data, { cas: !!v.cas, acquire: !!v.acquire, release: !!v.release, flags: typeof v.flags === 'bigint' ? v.flags : Number(v.flags), modifyIndex, session }, out);
    });
  },
};

interface PutMode { cas: boolean; acquire: boolean; release: boolean; flags: number | bigint; modifyIndex: number; session: string }

async function put(client: ConsulClient, key: string, data: Buffer, m: PutMode, out: ReturnType<typeof ui>): Promise<number> {
  const flags = m.flags;
  if (m.cas) {
    const res = await attempt(() => client.kv.put(key, data, { flags, cas: m.modifyIndex }));
    if (res instanceof Error) return fail(out, `Error! Did not write to ${key}: ${res.message}`);
    if (!res) return fail(out, `Error! Did not write to ${key}: CAS failed`);
    out.info(`Success! Data written to: ${key}`);
    return 0;
  }
  if (m.acquire) {
    const res = await attempt(() => client.kv.put(key, data, { flags, acquire: m.session }));
    if (res instanceof Error) return fail(out, `Error! Failed writing data: ${res.message}`);
    if (!res) return fail(out, 'Error! Did not acquire lock');
    out.info(`Success! Lock acquired on: ${key}`);
    return 0;
  }
  if (m.release) {
    const res = await attempt(() => client.kv.put(key, data, { flags, release: m.session }));
    // Consul prints the key, not the error, here.
    if (res instanceof Error) return fail(out, `Error! Failed writing data: ${key}`);
    if (!res) return fail(out, 'Error! Did not release lock');
    out.info(`Success! Lock released on: ${key}`);
    return 0;
  }
  const res = await attempt(() => client.kv.put(key, data, { flags }));
  if (res instanceof Error) return fail(out, `Error! Failed writing data: ${res.message}`);
  out.info(`Success! Data written to: ${key}`);
  return 0;
}

async function attempt(call: () => Promise<{ data: boolean }>): Promise<boolean | Error> {
  try {
    return (await call()).data;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function fail(out: ReturnType<typeof ui>, message: string): number {
  out.error(message);
  return 1;
}
