// The published package as users get it: `npm pack` (its prepack builds dist/), the tarball
// installed globally into a temporary prefix, its `proconsul` run (version, agent -dev), and
// `proconsul/api` imported (and type-checked) from a project that depends on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './support/ports.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
// Node 24 first on PATH, for the installed bin's `#!/usr/bin/env node` and npm's scripts.
const ENV = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };

function npm(args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env: ENV, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * Installs the tarball into `prefix`. Offline first: `npm ci` leaves the dependencies' metadata and
 * tarballs in npm's cache. A cache that lacks some (another npm version, a pruned cache) fills
 * the gap from the registry.
 */
function installGlobal(tgz: string, prefix: string): void {
  const args = ['install', '-g', '--prefix', prefix, tgz];
  if (npm([...args, '--offline'], prefix).status === 0) return;
  const r = npm([...args, '--prefer-offline'], prefix);
  assert.equal(r.status, 0, `npm install -g: ${r.out}`);
}

async function leaderOf(base: string, child: ChildProcess, output: () => string): Promise<number> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}: ${output()}`);
    try {
      const res = await fetch(`${base}/v1/status/leader`);
      if (res.status === 200 && (await res.json()) !== '') return res.status;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no leader: ${output()}`);
}

/** A project with `proconsul` in node_modules (the installed package) that calls the API client. */
function writeConsumer(dir: string, installed: string): void {
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  fs.symlinkSync(installed, path.join(dir, 'node_modules', 'proconsul'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', dependencies: { proconsul: '*' } }));
  const body = [
    "import { ConsulClient, type ApiResponse } from 'proconsul/api';",
    'const client = new ConsulClient({ address: process.argv[2] });',
    'const res: ApiResponse<string> = await client.status.leader();',
    'process.stdout.write(JSON.stringify(res.data));',
    'process.exit(0);',
  ];
  fs.writeFileSync(path.join(dir, 'main.ts'), body.join('\n'));
  fs.writeFileSync(path.join(dir, 'main.js'), body.map((l) => l.replace(', type ApiResponse', '').replace(': ApiResponse<string>', '')).join('\n'));
  // A CommonJS project: require() of the ES module package (Node ≥ 22.12), and its package.json.
  fs.writeFileSync(path.join(dir, 'main.cjs'), [
    "const { ConsulClient } = require('proconsul/api');",
    "const { version } = require('proconsul/package.json');",
    'new ConsulClient({ address: process.argv[2] }).status.leader().then((res) => process.stdout.write(JSON.stringify([version, res.data])));',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', target: 'es2023', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')] },
    files: ['main.ts'],
  }));
}

test('the packed package installs globally and runs: proconsul version, agent -dev to a leader, proconsul/api from a dependent ES module and CommonJS project', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-package-'));
  let agent: ChildProcess | undefined;
  try {
    const tgz = execFileSync('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: ROOT, env: ENV, encoding: 'utf8' }).trim().split('\n').at(-1)!;
    const prefix = path.join(dir, 'prefix');
    fs.mkdirSync(prefix);
    installGlobal(path.join(dir, tgz), prefix);
    const installed = path.join(prefix, 'lib', 'node_modules', 'proconsul');
    const bin = path.join(prefix, 'bin', 'proconsul');

    const version = spawnSync(bin, ['version'], { env: ENV, encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^Proconsul v\d+\.\d+\.\d+\nConsul API level /);

    const http = await freePort();
    const ports = ['-http-port', http, '-dns-port', await freePort(), '-server-port', await freePort(),
      '-serf-lan-port', await freePort(), '-serf-wan-port', await freePort(), '-grpc-port', -1, '-grpc-tls-port', -1].map(String);
    let out = '';
    agent = spawn(bin, ['agent', '-dev', '-node', 'pkg', ...ports], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    agent.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    const base = `http://127.0.0.1:${http}`;
    assert.equal(await leaderOf(base, agent, () => out), 200);

    const consumer = path.join(dir, 'consumer');
    writeConsumer(consumer, installed);
    const call = spawnSync(process.execPath, ['main.js', base], { cwd: consumer, env: ENV, encoding: 'utf8' });
    assert.equal(call.status, 0, call.stderr);
    assert.match(JSON.parse(call.stdout) as string, /^127\.0\.0\.1:\d+$/);
    const cjs = spawnSync(process.execPath, ['main.cjs', base], { cwd: consumer, env: ENV, encoding: 'utf8' });
    assert.equal(cjs.status, 0, cjs.stderr);
    const [pkgVersion, leader] = JSON.parse(cjs.stdout) as [string, string];
    assert.equal(pkgVersion, (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    assert.match(leader, /^127\.0\.0\.1:\d+$/);
    const tsc = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', consumer], { env: ENV, encoding: 'utf8' });
    assert.equal(tsc.status, 0, `the package's declarations type-check a consumer: ${tsc.stdout}${tsc.stderr}`);
    for (const unshipped of ['src', 'test', 'bench']) assert.equal(fs.existsSync(path.join(installed, unshipped)), false, `${unshipped}/ is not shipped`);
  } finally {
    if (agent && agent.exitCode === null) agent.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
