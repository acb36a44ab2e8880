// Files of the `tls` commands as Consul's command/tls and lib/file handle them: names resolved in
// the command's directory, "does not exist" checks, and atomic writes with explicit permissions.
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CliIO } from './io.ts';

/** `name` resolved in the command's working directory. */
export function inCwd(io: CliIO, name: string): string {
  return resolve(io.cwd ?? process.cwd(), name);
}

/** True when nothing exists at `name` (tls.FileDoesNotExist). */
export function fileDoesNotExist(io: CliIO, name: string): boolean {
  return !existsSync(inCwd(io, name));
}

/** Writes `data` through a temporary file renamed into place, with `mode` set explicitly (file.WriteAtomicWithPerms, directories 0755). */
export function writeAtomicWithPerms(io: CliIO, name: string, data: string, mode: number): void {
  const path = inCwd(io, name);
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temp = `${path}.tmp${process.pid}`;
  writeFileSync(temp, data, { mode });
  chmodSync(temp, mode);
  renameSync(temp, path);
}
