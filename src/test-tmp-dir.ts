// Scratch directories for tests, removed when the test process exits (each test file runs in
// its own process under `node --test`), so test runs leave nothing behind in the system's tmpdir.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

/** A new empty directory named `<tmpdir>/<prefix>XXXXXX`, deleted with its contents at exit. */
export function tmpDir(prefix: string): string {
  if (made.length === 0) process.once('exit', removeAll);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function removeAll(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
