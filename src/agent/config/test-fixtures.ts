// Shared helpers for the config loader tests: temp dirs with fixture files and a fake host.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Interfaces } from './addresses.ts';
import { tmpDir } from '../../test-tmp-dir.ts';

/** One private and one loopback interface, so advertise detection is deterministic. */
export const fakeInterfaces: Interfaces = {
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [{ address: '10.1.2.3', netmask: '255.255.255.0', family: 'IPv4', mac: '02:42:ac:11:00:02', internal: false, cidr: '10.1.2.3/24' }],
};

/** Creates a temp dir holding `files` (name → content); returns its path. */
export async function fixtureDir(files: Record<string, string> = {}): Promise<string> {
  const dir = tmpDir('proconsul-config-');
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}
