// Port claims across test processes: a port another live test process claimed is not handed out;
// the claim of a process killed outright is taken over; a process that exits drops its claims.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { CLAIMS_DIR, claimPort } from './ports.ts';

const PORTS = path.join(import.meta.dirname, 'ports.ts');
const children: ChildProcess[] = [];
after(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

/** A node process that claims `port`, says whether it got it, then waits for stdin to close before exiting. */
async function claimer(port: number): Promise<{ child: ChildProcess; got: string }> {
  const code = `const { claimPort } = await import(${JSON.stringify(PORTS)}); console.log(String(claimPort(${port}))); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, got: chunk.toString().trim() };
}

/** A port number no test uses (claims only: nothing binds it). */
const somePort = () => 40_000 + Math.floor(Math.random() * 20_000);

test('a port another live process claimed is refused; once that process was killed outright its claim is taken over', async () => {
  const port = somePort();
  const { child, got } = await claimer(port);
  assert.equal(got, 'true');
  assert.equal(claimPort(port), false);
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.ok(fs.existsSync(path.join(CLAIMS_DIR, String(port), String(child.pid))), 'a killed process leaves its claim');
  assert.equal(claimPort(port), true);
  assert.deepEqual(fs.readdirSync(path.join(CLAIMS_DIR, String(port))), [String(process.pid)]);
});

test('a process that claimed first keeps the port from a later one; an exiting process drops its claims', async () => {
  const port = somePort();
  assert.equal(claimPort(port), true);
  const later = await claimer(port);
  assert.equal(later.got, 'false');
  later.child.stdin!.end();
  await once(later.child, 'exit');
  const other = somePort();
  const first = await claimer(other);
  assert.equal(first.got, 'true');
  first.child.stdin!.end();
  await once(first.child, 'exit');
  assert.deepEqual(fs.readdirSync(path.join(CLAIMS_DIR, String(other))), []);
});
