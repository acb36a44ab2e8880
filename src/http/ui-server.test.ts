import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../log.ts';
import { uiHandlers, type UiFs } from './ui-server.ts';
import type { HttpRequest } from './request.ts';
import type { UiTemplateSettings } from './ui-template.ts';

const SETTINGS: UiTemplateSettings = {
  contentPath: '/ui/', aclsEnabled: false, datacenter: 'dc1', primaryDatacenter: 'dc1', peeringEnabled: true, metricsProvider: '',
  metricsProviderFiles: [], metricsProviderOptionsJson: '', metricsProxyEnabled: false, dashboardUrlTemplates: {},
};

const req = (rest: string): HttpRequest => ({
  method: 'GET', path: `/ui/${rest}`, params: { rest }, query: new URLSearchParams(), headers: {}, remoteAddr: '127.0.0.1',
  signal: new AbortController().signal, body: async () => Buffer.alloc(0),
});

/** node:fs/promises counting the files it reads. */
function countingFs(): UiFs & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    stat: (p) => fsp.stat(p),
    readFile: (p) => {
      reads.push(path.basename(p));
      return fsp.readFile(p);
    },
  };
}

test('the rendered index and unchanged files are read once, and again once they change', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-ui-unit-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'index.html'), '<p>{{.LocalDatacenter}} {{if .ACLsEnabled}}acl{{end}}</p>');
  fs.writeFileSync(path.join(dir, 'app.js'), 'one');
  const files = countingFs();
  let settings = SETTINGS;
  const ui = uiHandlers({ served: true, dir: () => dir, contentPath: '/ui/', settings: () => settings, logger: silentLogger(), fs: files });
  const body = async (rest: string) => String((await ui.serve(req(rest))).raw);

  assert.equal(await body(''), '<p>dc1 </p>');
  assert.equal(await body('services/web'), '<p>dc1 </p>');
  assert.equal(await body('app.js'), 'one');
  assert.equal(await body('app.js'), 'one');
  assert.deepEqual(files.reads, ['index.html', 'app.js']);

  // New settings render the same file again without reading it; a changed file is read again.
  settings = { ...SETTINGS, aclsEnabled: true };
  assert.equal(await body('nodes'), '<p>dc1 acl</p>');
  fs.writeFileSync(path.join(dir, 'app.js'), 'two!');
  assert.equal(await body('app.js'), 'two!');
  assert.deepEqual(files.reads, ['index.html', 'app.js', 'app.js']);
});

test("an unreadable metrics provider file is Consul's bare 500, naming no path", async () => {
  const ui = uiHandlers({
    served: true, dir: () => '', contentPath: '/ui/', logger: silentLogger(),
    settings: () => ({ ...SETTINGS, metricsProviderFiles: ['/nonexistent/proconsul/provider.js'] }),
  });
  const res = await ui.serve(req('assets/compiled-metrics-providers.js'));
  assert.equal(res.status, 500);
  assert.equal(res.raw, 'Internal Server Error\n');
});

test("Go's FileServer redirects: a file asked as a directory goes to the file, and the query stays", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-ui-unit-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'index.html'), 'app');
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'js');
  const ui = uiHandlers({ served: true, dir: () => dir, contentPath: '/ui/', settings: () => SETTINGS, logger: silentLogger() });
  const at = async (rest: string, query = '') => {
    const r = await ui.serve({ ...req(rest), url: `/ui/${rest}${query}` });
    return [r.status, r.headers?.Location];
  };
  assert.deepEqual(await at('assets/app.js/'), [301, '../app.js']);
  assert.deepEqual(await at('assets', '?dc=dc1'), [301, 'assets/?dc=dc1']);
  assert.deepEqual(await at('index.html', '?dc=dc1'), [301, './?dc=dc1']);
  assert.deepEqual(await at('assets/app.js', '?v=1'), [undefined, undefined]);
});
