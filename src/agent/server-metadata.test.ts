// server_rejoin_age_max's check and the last-seen file a running server keeps (Consul's format).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../clock.ts';
import { checkServerLastSeen, persistServerMetadata, SERVER_METADATA_FILE } from './server-metadata.ts';
import { tmpDir } from '../test-tmp-dir.ts';

const WEEK = 168 * 3_600_000;
const dir = () => tmpDir('proconsul-server-md-');
const write = (d: string, text: string) => fs.writeFileSync(path.join(d, SERVER_METADATA_FILE), text);

test('no file is a first start; a last-seen time within the maximum starts; older is refused with Consul\'s error', () => {
  const d = dir();
  const now = 1_800_000_000_000;
  checkServerLastSeen(d, WEEK, now);
  write(d, JSON.stringify({ last_seen_unix: (now - WEEK + 60_000) / 1000 }));
  checkServerLastSeen(d, WEEK, now);
  write(d, JSON.stringify({ last_seen_unix: (now - WEEK - 1000) / 1000 }));
  assert.throws(() => checkServerLastSeen(d, WEEK, now), {
    message: 'refusing to rejoin cluster because server has been offline for more than the configured server_rejoin_age_max (168h0m0s) - consider wiping your data dir',
  });
  write(d, 'not json');
  assert.throws(() => checkServerLastSeen(d, WEEK, now), { message: /^error reading server metadata: / });
});

test('a running server writes the last-seen time at once and every hour, readable as Consul writes it', () => {
  const d = dir();
  const clock = new ManualClock(1_800_000_000_500);
  const p = persistServerMetadata(d, clock, (err) => assert.fail(err));
  const read = () => JSON.parse(fs.readFileSync(path.join(d, SERVER_METADATA_FILE), 'utf8')) as { last_seen_unix: number };
  assert.deepEqual(read(), { last_seen_unix: 1_800_000_000 });
  assert.equal(fs.statSync(path.join(d, SERVER_METADATA_FILE)).mode & 0o777, 0o600);
  clock.advance(3_600_000);
  assert.deepEqual(read(), { last_seen_unix: 1_800_003_600 });
  p.stop();
  clock.advance(3_600_000);
  assert.deepEqual(read(), { last_seen_unix: 1_800_003_600 });
});

test('server_rejoin_age_max: 168h by default, the value set without a warning, under 6h a build error as Consul\'s', async () => {
  const { loadConfig } = await import('./config/index.ts');
  const { fakeInterfaces } = await import('./config/test-fixtures.ts');
  const load = (args: string[]) => loadConfig({ args, hostname: 'h', interfaces: fakeInterfaces });
  assert.equal((await load(['-dev'])).config.serverRejoinAgeMax, WEEK);
  const { config, warnings } = await load(['-dev', '-hcl', 'server_rejoin_age_max = "48h"']);
  assert.equal(config.serverRejoinAgeMax, 48 * 3_600_000);
  assert.deepEqual(warnings.filter((w) => w.includes('rejoin')), []);
  await assert.rejects(load(['-dev', '-hcl', 'server_rejoin_age_max = "1h"']), {
    message: '1 error occurred:\n\t* server_rejoin_age_max: duration \'1h\' cannot be less than: 6h0m0s\n\n',
  });
});

test('each write replaces the file whole (written beside it, then renamed): a failed write leaves the last one readable', () => {
  const d = dir();
  const clock = new ManualClock(1_800_000_000_000);
  const file = path.join(d, SERVER_METADATA_FILE);
  const errors: Error[] = [];
  const p = persistServerMetadata(d, clock, (err) => errors.push(err));
  const first = fs.statSync(file).ino;
  clock.advance(3_600_000);
  assert.notEqual(fs.statSync(file).ino, first, 'a new file took its place, not a rewrite in place (O_TRUNC) a crash could leave empty');
  assert.deepEqual(fs.readdirSync(d), [SERVER_METADATA_FILE]);
  // The next write cannot be made (its temporary name is taken by a directory): the last one stays.
  fs.mkdirSync(`${file}.tmp`);
  clock.advance(3_600_000);
  assert.equal(errors.length, 1);
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { last_seen_unix: 1_800_003_600 });
  p.stop();
});
