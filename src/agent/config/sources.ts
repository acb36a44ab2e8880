// Reading -config-file / -config-dir paths into sources, as Consul's sourcesFromPath does:
// a directory contributes its .json and .hcl files in name order (no recursion), other
// extensions are skipped with a warning unless -config-format forces a format.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from './error.ts';
import type { Source } from './parse.ts';

/** Format from a file name; null for an unknown extension. */
export function formatFromExtension(name: string): 'json' | 'hcl' | null {
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.hcl')) return 'hcl';
  return null;
}

/** Go's wording for common file-system errors. */
function fsMessage(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `open ${path}: no such file or directory`;
  if (code === 'EACCES') return `open ${path}: permission denied`;
  return (err as Error).message;
}

async function fileSource(path: string, format: 'json' | 'hcl'): Promise<Source> {
  try {
    return { name: path, format, data: await readFile(path, 'utf8') };
  } catch (err) {
    throw new ConfigError(`config: failed to read ${path}: ${fsMessage(err, path)}`, { cause: err });
  }
}

async function dirSources(dir: string, forced: 'json' | 'hcl' | undefined, warnings: string[]): Promise<Source[]> {
  const names = (await readdir(dir)).sort();
  const out: Source[] = [];
  for (const name of names) {
    const fp = join(dir, name);
    // stat follows symlinks, as Consul resolves them before deciding.
    if ((await stat(fp)).isDirectory()) continue;
    const format = forced ?? formatFromExtension(fp);
    if (!format) {
      warnings.push(`skipping file ${fp}, extension must be .hcl or .json, or config format must be set`);
      continue;
    }
    out.push(await fileSource(fp, format));
  }
  return out;
}

/** Sources for one path given to -config-file or -config-dir (either may be a file or a dir). */
export async function sourcesFromPath(path: string, cwd: string, forced: 'json' | 'hcl' | undefined, warnings: string[]): Promise<Source[]> {
  const full = resolve(cwd, path);
  let info;
  try {
    info = await stat(full);
  } catch (err) {
    throw new ConfigError(`config: Open failed on ${path}. ${fsMessage(err, path)}`, { cause: err });
  }
  if (info.isDirectory()) return dirSources(full, forced, warnings);
  const format = forced ?? formatFromExtension(full);
  if (!format) throw new ConfigError(`file ${path} has unknown extension; must be .hcl or .json, or config format must be set`);
  return [await fileSource(full, format)];
}
