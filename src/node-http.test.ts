import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const SRC = import.meta.dirname;
/** A value import (not `import type`) of node:http, node:https or node:http2. */
const VALUE_IMPORT = /^import\s+(?!type\s)[^;]*?from\s+'node:https?2?'/gm;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

test('no source file imports node:http, node:https or node:http2 as an ES module (src/node-http.ts gives them without loading undici)', () => {
  const offenders = sourceFiles(SRC).filter((f) => f !== path.join(SRC, 'node-http.ts'))
    .flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(VALUE_IMPORT)].map((m) => `${path.relative(SRC, f)}: ${m[0]}`));
  assert.deepEqual(offenders, []);
});

test('the pattern catches the import forms that build the ES facade and lets type imports through', () => {
  const hits = (s: string) => [...s.matchAll(VALUE_IMPORT)].length;
  assert.equal(hits("import http from 'node:http';"), 1);
  assert.equal(hits("import * as https from 'node:https';"), 1);
  assert.equal(hits("import http2 from 'node:http2';"), 1);
  assert.equal(hits("import { createServer, type Server } from 'node:http';"), 1);
  assert.equal(hits("import type { IncomingMessage } from 'node:http';"), 0);
  assert.equal(hits("import type * as http from 'node:http';"), 0);
  assert.equal(hits("import net from 'node:net';"), 0);
});

test('node-http.ts gives node:http without loading undici; an ES import of node:http loads it', async () => {
  const { spawnSync } = await import('node:child_process');
  const undiciLoaded = (imports: string) => {
    const probe = `${imports}; console.log(process.moduleLoadList.some((m) => m.includes('undici')));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(undiciLoaded(`const { nodeHttp } = await import(${JSON.stringify(path.join(SRC, 'node-http.ts'))}); nodeHttp.createServer()`), 'false');
  assert.equal(undiciLoaded("await import('node:http')"), 'true');
});
