// The KEY_OR_PREFIX argument of `kv get`, `kv export` and `kv delete`: at most one, with the
// leading `/` users type dropped as Consul does (stored keys cannot start with one).

import type { FlagDef, ParsedFlags } from './flags.ts';
import { parseCommandFlags, ui, type CliIO } from './io.ts';

/** Parses the flags and the optional key; null after printing the flag error or `Too many arguments …` (exit 1). */
export function parseKeyCommand(defs: FlagDef[], args: string[], io: CliIO): { flags: ParsedFlags; key: string } | null {
  const flags = parseCommandFlags(defs, args, io);
  if (!flags) return null;
  if (flags.args.length > 1) {
    ui(io).error(`Too many arguments (expected 1, got ${flags.args.length})`);
    return null;
  }
  const key = flags.args[0] ?? '';
  return { flags, key: key.startsWith('/') ? key.slice(1) : key };
}
