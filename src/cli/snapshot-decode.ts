// `proconsul snapshot decode`: prints a snapshot file's header and records as Consul's stream of
// line-delimited JSON objects ({"Data":…,"Type":…}), from an archive or a raw state.bin.
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { goFileError } from '../api/errors.ts';
import { decodeSnapshot, type SnapshotMeta } from '../snapshot/index.ts';
import { parseFileCommand, ui, type CliIO, type Command } from './io.ts';
import { isRawState, loadSnapshotFile, rawStateMeta } from './snapshot-inspect.ts';

/** The `snapshot decode` command. */
export const snapshotDecodeCommand: Command = {
  name: 'snapshot decode',
  synopsis: 'Decodes the binary',
  flags: [],
  help: `
Usage: proconsul snapshot decode [options] FILE

  Decodes snapshot data and outputs a stream of line delimited JSON objects of the form:

  {"Type": "SnapshotHeader", "Data": {"<json encoded snapshot header>"}}
  {"Type": "<type name>","Data": {<json encoded data>}}
  {"Type": "<type name>","Data": {<json encoded data>}}
  ...
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const parsed = parseFileCommand(this.flags, args, io);
    if (!parsed) return 1;
    let loaded: { meta: SnapshotMeta; state: Buffer | AsyncIterable<Uint8Array> };
    let handle: FileHandle | undefined;
    try {
      if (isRawState(parsed.file)) {
        // A raw state.bin is streamed from disk, never held whole (nor limited to readFile's 2 GiB).
        handle = await open(parsed.file).catch((err: NodeJS.ErrnoException) => {
          throw new Error(`Error opening snapshot file: ${goFileError(err, parsed.file)}`);
        });
        loaded = { meta: await rawStateMeta(parsed.file), state: handle.createReadStream({ autoClose: false, highWaterMark: 64 * 1024 }) };
      } else {
        loaded = await loadSnapshotFile(parsed.file);
      }
    } catch (err) {
      await handle?.close();
      out.error((err as Error).message);
      return 1;
    }
    try {
      return await print(loaded, io);
    } finally {
      await handle?.close();
    }
  },
};

// Writes the lines as they are decoded, in batches of about 64 KiB: the output is never one string.
async function print(loaded: { meta: SnapshotMeta; state: Buffer | AsyncIterable<Uint8Array> }, io: CliIO): Promise<number> {
  const out = ui(io);
  let batch: string[] = [];
  let size = 0;
  const flush = () => {
    if (batch.length) io.stdout(batch.join(''));
    batch = [];
    size = 0;
  };
  try {
    for await (const l of decodeSnapshot(loaded.meta, loaded.state)) {
      batch.push(l, '\n');
      size += l.length + 1;
      if (size >= 64 * 1024) flush();
    }
  } catch (err) {
    flush();
    out.error(`Error extracting snapshot data: ${(err as Error).message}`);
    return 1;
  }
  flush();
  return 0;
}
