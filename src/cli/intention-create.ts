// `proconsul intention create [-allow|-deny] [-replace] [-meta k=v] SRC DST` or `-file FILE...`:
// create intentions through the ID-based API as `consul intention create` does, with its messages.

import { readFile } from 'node:fs/promises';
import { goFileError } from '../api/errors.ts';
import { INTENTION_API_FIELDS, IntentionsApi, intentionString, type Intention } from '../api/intentions.ts';
import { withClient, StepFailure } from './client-command.ts';
import { mapFlag } from './catalog-flags.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** ParseIntentionTarget: the name of `[[partition/]namespace/]name`, its namespace and partition. */
export function parseIntentionTarget(input: string): { name: string; ns: string; partition: string } {
  const parts = input.split('/');
  if (parts.length > 3) throw new Error("input can contain at most two '/'");
  return { name: parts[parts.length - 1], ns: parts.length > 1 ? parts[parts.length - 2] : '', partition: parts.length > 2 ? parts[0] : '' };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A file's JSON as Consul's CLI decodes it into api.Intention (plain json.Decoder): keys matched
 * ignoring case, the others dropped, so the server's strict decoding never sees them.
 */
function asApiIntention(raw: unknown): Intention {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw as Intention;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const f = INTENTION_API_FIELDS.find((n) => n.toLowerCase() === k.toLowerCase());
    if (f !== undefined) out[f] = v;
  }
  return out as unknown as Intention;
}

async function fromFile(path: string, io: CliIO): Promise<Intention> {
  let text: string;
  try {
    text = path === '-' ? await readAll(io.stdin) : await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(goFileError(err as NodeJS.ErrnoException, path), { cause: err });
  }
  const ixn = asApiIntention(JSON.parse(text));
  if (ixn.Permissions?.length) {
    throw new Error(`cannot create L7 intention from file ${JSON.stringify(path)} using this CLI; use 'consul config write' instead`);
  }
  return ixn;
}

/** The intentions the arguments (or files) describe. */
async function fromArgs(args: string[], file: boolean, action: string, meta: Record<string, string>, io: CliIO): Promise<Intention[]> {
  if (file) {
    const out: Intention[] = [];
    for (const path of args) out.push(await fromFile(path, io));
    return out;
  }
  if (args.length !== 2) throw new Error('Must specify two arguments: source and destination');
  const wrap = (what: string, input: string) => {
    try {
      return parseIntentionTarget(input);
    } catch (err) {
      throw new Error(`Invalid intention ${what}: ${(err as Error).message}`, { cause: err });
    }
  };
  const src = wrap('source', args[0]);
  const dst = wrap('destination', args[1]);
  const ixn: Intention = {
    SourceNS: src.ns, SourceName: src.name, DestinationNS: dst.ns, DestinationName: dst.name, SourceType: 'consul', Action: action,
  };
  if (Object.keys(meta).length) ixn.Meta = meta;
  return [ixn];
}

const formatPart = (ns: string | undefined, n: string): string => (ns ? `${ns}/${n}` : n);

/** The `intention create` command. */
export const intentionCreateCommand: Command = {
  name: 'intention create',
  synopsis: 'Create intentions for service connections.',
  flags: [
    { name: 'allow', kind: 'bool', usage: 'Create an intention that allows when matched.' },
    { name: 'deny', kind: 'bool', usage: 'Create an intention that denies when matched.' },
    { name: 'file', kind: 'bool', usage: 'Read intention data from one or more files.' },
    { name: 'replace', kind: 'bool', usage: 'Replace matching intentions.' },
    { name: 'meta', kind: 'list', usage: 'Metadata to set on the intention, formatted as key=value. This flag may be specified multiple times to set multiple meta fields.' },
    ...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul intention create [options] SRC DST
Usage: proconsul intention create [options] -file FILE...

  Create one or more intentions. The data can be specified as a single
  source and destination pair or via a set of files when the "-file" flag
  is specified.

      $ proconsul intention create web db

  To consume data from a set of files:

      $ proconsul intention create -file one.json two.json

  When specifying the "-file" flag, "-" may be used once to read from stdin:

      $ echo "{ ... }" | proconsul intention create -file -

  An "allow" intention is created by default (allowlist). To create a
  "deny" intention, the "-deny" flag should be specified.

  If a conflicting intention is found, creation will fail. To replace any
  conflicting intentions, specify the "-replace" flag. This will replace any
  conflicting intentions with the intention specified in this command.
  Metadata and any other fields of the previous intention will not be
  preserved.

  Additional flags and more advanced use cases are detailed below.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const v = flags.values;
    const allow = v.allow === true || v.deny !== true;
    if (allow && v.deny === true) {
      out.error('Only one of -allow or -deny may be specified.');
      return 1;
    }
    const meta = mapFlag(flags, this.flags, 'meta', io);
    if (!meta) return 1;
    let ixns: Intention[];
    try {
      ixns = await fromArgs(flags.args, v.file === true, allow ? 'allow' : 'deny', meta, io);
    } catch (err) {
      out.error(`Error: ${(err as Error).message}`);
      return 1;
    }
    return withClient(flags, io, async (client) => {
      const api = new IntentionsApi(client);
      for (const ixn of ixns) {
        const src = formatPart(ixn.SourceNS, ixn.SourceName);
        const dst = formatPart(ixn.DestinationNS, ixn.DestinationName);
        if (v.replace === true) {
          const old = await api.getExact(src, dst).catch((err: Error) => {
            throw new StepFailure(`Error looking up intention for replacement with source ${JSON.stringify(src)} and destination ${JSON.stringify(dst)}: ${err.message}`);
          });
          if (old) {
            await api.update({ ...ixn, ID: old.ID }).catch((err: Error) => {
              throw new StepFailure(`Error replacing intention with source ${JSON.stringify(src)} and destination ${JSON.stringify(dst)}: ${err.message}`);
            });
            continue;
          }
        }
        await api.create(ixn).catch((err: Error) => {
          throw new StepFailure(`Error creating intention ${JSON.stringify(intentionString(ixn))}: ${err.message}`);
        });
        out.info(`Created: ${intentionString(ixn)}`);
      }
      return 0;
    });
  },
};
