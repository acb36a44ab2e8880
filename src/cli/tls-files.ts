// Files of the `tls` commands as Consul's command/tls and lib/file handle them: names resolved in
// the command's directory, "does not exist" checks, and atomic writes with explicit permissions.
// Unlike a rename, a write here never replaces a file: the temporary file is created exclusively
// (a link planted at its name is refused, not followed) and hard-linked into place, which fails
// when something appeared at the name after the command's existence check.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
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

// Creates `path` exclusively with exactly `mode` (whatever the umask) and writes `data`, synced.
function writeExclusive(path: string, data: string, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `name` with `mode` set explicitly (file.WriteAtomicWithPerms, directories
 * 0755), through an exclusively created temporary file linked into place; throws
 * `<name> already exists.` when anything is at `name` by then.
 */
export function writeAtomicWithPerms(io: CliIO, name: string, data: string, mode: number): void {
  const path = inCwd(io, name);
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temp = `${path}-${randomBytes(12).toString('hex')}.tmp`;
  writeExclusive(temp, data, mode);
  try {
    linkSync(temp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Error(`${name} already exists.`, { cause: err });
    // A file system without hard links: create the file itself exclusively (not atomic, never replacing).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    try {
      writeExclusive(path, data, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${name} already exists.`, { cause: e });
      throw e;
    }
  } finally {
    unlinkSync(temp);
  }
}
