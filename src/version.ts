// Version identity: the Consul API level Proconsul follows and Proconsul's own release, read
// once from package.json; the git revision is looked up from a checkout when there is one.

import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Consul release whose observable behaviour (API, CLI, config) Proconsul follows. */
export const CONSUL_API_VERSION = '1.16.1';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Proconsul's own version, from package.json. */
export const PROCONSUL_VERSION: string = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Consul's RPC protocol versions as `consul version` reports them. */
export const RPC_PROTOCOL = { Default: 2, Min: 2, Max: 3 } as const;

/** The git commit of the checkout Proconsul runs from, or '' when not run from git. */
export function gitRevision(root = ROOT): string {
  try {
    let gitDir = join(root, '.git');
    if (statSync(gitDir).isFile()) {
      // A worktree or submodule: `.git` is a file pointing at the real directory.
      const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(gitDir, 'utf8'));
      if (!m) return '';
      gitDir = resolve(root, m[1].trim());
    }
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    for (const dir of [gitDir, commonDir(gitDir)]) {
      try {
        return readFileSync(join(dir, ref), 'utf8').trim();
      } catch { /* try packed refs */ }
      try {
        const line = readFileSync(join(dir, 'packed-refs'), 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`));
        if (line) return line.split(' ')[0];
      } catch { /* not packed here */ }
    }
    return '';
  } catch {
    return '';
  }
}

function commonDir(gitDir: string): string {
  try {
    return resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    return gitDir;
  }
}

/** The build date reported by `version`: package.json's modification time, RFC 3339 in UTC. */
export function buildDate(root = ROOT): string {
  try {
    return statSync(join(root, 'package.json')).mtime.toISOString().replace(/\.\d{3}Z$/, 'Z');
  } catch {
    return '1970-01-01T00:00:00Z';
  }
}
