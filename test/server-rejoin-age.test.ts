// server_rejoin_age_max on a real server agent: one whose data directory says it was last seen
// longer ago than the maximum refuses to start with Consul's error; a recent one starts and
// records that it was seen now.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAgent } from '../src/index.ts';
import { silentLogger } from '../src/log.ts';
import { devConfig } from './support/agent.ts';

const HOUR = 3_600_000;

function agentIn(dataDir: string, maxAgeMs: number) {
  return createAgent(devConfig({ dataDir, serverRejoinAgeMax: maxAgeMs }), { logger: silentLogger() });
}

test('a server last seen 8 days ago refuses to start under the default 168h; one seen an hour ago starts', async () => {
  const stale = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-rejoin-'));
  fs.writeFileSync(path.join(stale, 'server_metadata.json'), JSON.stringify({ last_seen_unix: Math.floor((Date.now() - 8 * 24 * HOUR) / 1000) }));
  const refused = agentIn(stale, 168 * HOUR);
  await assert.rejects(refused.start(), {
    message: 'refusing to rejoin cluster because server has been offline for more than the configured server_rejoin_age_max (168h0m0s) - consider wiping your data dir',
  });
  await refused.stop();
  // A longer maximum lets the same server start.
  const allowed = agentIn(stale, 240 * HOUR);
  await allowed.start();
  try {
    const seen = (JSON.parse(fs.readFileSync(path.join(stale, 'server_metadata.json'), 'utf8')) as { last_seen_unix: number }).last_seen_unix;
    assert.ok(Math.abs(seen * 1000 - Date.now()) < 60_000, 'the last-seen time was written at start');
  } finally {
    await allowed.stop();
  }
});
