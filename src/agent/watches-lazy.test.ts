// The agent's watches load watches.ts (the API client, the CLI's watch plans) only for a
// configuration that has watches, and then behave as watches.ts's AgentWatches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('watches.ts is loaded on the first reload with watches, not before; an invalid watch still throws Consul\'s error', () => {
  const lazy = new URL('./watches-lazy.ts', import.meta.url).href;
  const logMod = new URL('../log.ts', import.meta.url).href;
  const code = `import module from 'node:module';
const loaded = [];
module.registerHooks({ load(url, ctx, next) { loaded.push(url); return next(url, ctx); } });
const { AgentWatches } = await import(${JSON.stringify(lazy)});
const { silentLogger } = await import(${JSON.stringify(logMod)});
const w = new AgentWatches({ logger: silentLogger(), addresses: () => ['127.0.0.1:8500'] });
const has = () => loaded.some((u) => u.endsWith('/agent/watches.ts'));
w.reload({ raw: {}, httpAddrs: ['127.0.0.1:8500'] });
w.reload({ raw: { watches: [] }, httpAddrs: ['127.0.0.1:8500'] });
w.stop();
const before = has();
let error = '';
try { w.reload({ raw: { watches: [{ type: 'nope', args: ['true'] }] }, httpAddrs: ['127.0.0.1:8500'] }); } catch (e) { error = e.message; }
w.stop();
console.log(JSON.stringify({ before, after: has(), error }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { before: boolean; after: boolean; error: string };
  assert.equal(out.before, false, 'watches.ts loaded without watches');
  assert.equal(out.after, true);
  assert.match(out.error, /nope/);
});
