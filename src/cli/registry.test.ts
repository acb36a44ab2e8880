import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryIO } from './io.ts';
import { COMMANDS, runCli } from './registry.ts';

test('no arguments: usage on stderr listing top-level commands, exit 127 like Consul', async () => {
  const io = memoryIO();
  assert.equal(await runCli([], io), 127);
  assert.match(io.err, /^Usage: proconsul \[--version\] \[--help\] <command> \[<args>\]\n\nAvailable commands are:\n/);
  assert.match(io.err, /\n {4}kv {13}Interact with the key-value store\n/);
  assert.match(io.err, /\n {4}version {8}Prints the Proconsul version\n/);
  assert.doesNotMatch(io.err, /kv get/);
  assert.equal(io.out, '');
});

test('-h / --help print usage and exit 0; unknown commands exit 127', async () => {
  for (const flag of ['-h', '--help', '-help']) {
    const io = memoryIO();
    assert.equal(await runCli([flag], io), 0);
    assert.match(io.err, /Available commands are:/);
  }
  const io = memoryIO();
  assert.equal(await runCli(['nope'], io), 127);
  assert.match(io.err, /Available commands are:/);
});

test('a parent command prints its help and subcommands, exit 1', async () => {
  const io = memoryIO();
  assert.equal(await runCli(['kv'], io), 1);
  assert.match(io.err, /^Usage: proconsul kv <subcommand>/);
  assert.match(io.err, /\n\nSubcommands:\n {4}delete {4}Removes data from the KV store\n/);
  const io2 = memoryIO();
  assert.equal(await runCli(['kv', 'frob'], io2), 1);
  assert.match(io2.err, /Subcommands:/);
});

test('-h anywhere shows the command help with HTTP API and Command Options', async () => {
  const io = memoryIO();
  assert.equal(await runCli(['kv', 'put', 'foo', '-h'], io), 0);
  assert.match(io.err, /^Usage: proconsul kv put \[options\] KEY \[DATA\]/);
  assert.match(io.err, /\nHTTP API Options\n\n {2}-ca-file=<value>\n/);
  assert.match(io.err, /\n {2}-http-addr=<address>\n {5}The address and port/);
  assert.match(io.err, /\nCommand Options\n\n {2}-acquire\n/);
  assert.match(io.err, /\n {2}-modify-index=<uint>\n/);
  for (const line of io.err.split('\n')) if (line.startsWith('     ')) assert.ok(line.length <= 72, line);
});

test('flags before the subcommand are rejected as mitchellh/cli does', async () => {
  const io = memoryIO();
  assert.equal(await runCli(['-stale', 'kv', 'get', 'x'], io), 1);
  assert.match(io.err, /^Invalid flags before the subcommand\. If these flags are for\nthe subcommand, please put them after the subcommand\.\n\nUsage: proconsul kv get/);
});

test('version: pretty and JSON, -v and --version route to it', async () => {
  const io = memoryIO();
  assert.equal(await runCli(['version'], io), 0);
  assert.match(io.out, /^Proconsul v\d+\.\d+\.\d+\nConsul API level 1\.16\.1\n/);
  assert.match(io.out, /\nBuild Date \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nProtocol 2 spoken by default, understands 2 to 3 \(agent will automatically use protocol >2 when speaking to compatible agents\)\n/);
  const j = memoryIO();
  assert.equal(await runCli(['version', '-format=json'], j), 0);
  const info = JSON.parse(j.out);
  assert.deepEqual(Object.keys(info), ['Version', 'Revision', 'Prerelease', 'BuildDate', 'RPC']);
  assert.equal(info.Version, '1.16.1');
  assert.deepEqual(info.RPC, { Default: 2, Min: 2, Max: 3 });
  assert.match(j.out, /^\{\n {3}"Version": "1\.16\.1",\n/);
  for (const v of ['-v', '--version']) {
    const io3 = memoryIO();
    assert.equal(await runCli([v], io3), 0);
    assert.match(io3.out, /^Proconsul v/);
  }
  const bad = memoryIO();
  assert.equal(await runCli(['version', '-format=xml'], bad), 1);
  assert.equal(bad.err, 'Unknown format: xml\n');
});

test('a flag error prints Go flag\'s message and defaults, exit 1', async () => {
  const io = memoryIO();
  assert.equal(await runCli(['kv', 'get', '-bogus'], io), 1);
  assert.match(io.err, /^flag provided but not defined: -bogus\nUsage:\n {2}-base64\n {4}\tBase64 encode/);
  assert.match(io.err, /\n {2}-separator string\n {4}\tString to use .* \(default "\/"\)\n/);
  const io2 = memoryIO();
  assert.equal(await runCli(['kv', 'put', '-flags=-1', 'k'], io2), 1);
  assert.match(io2.err, /^invalid value "-1" for flag -flags: parse error\n/);
});

test('every lazily loaded command has the name and synopsis its registry entry lists', async () => {
  for (const entry of COMMANDS) {
    const cmd = await entry.load();
    assert.equal(cmd.name, entry.name);
    assert.equal(cmd.synopsis, entry.synopsis, entry.name);
  }
});
