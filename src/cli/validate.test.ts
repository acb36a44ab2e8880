import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createValidateCommand } from './validate.ts';
import { fakeInterfaces, fixtureDir } from '../agent/config/test-fixtures.ts';

const validateCommand = createValidateCommand({ interfaces: fakeInterfaces });

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await validateCommand.run(args, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: {} });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

test('a minimal valid file and directory pass', async () => {
  const dir = await fixtureDir();
  const conf = await fixtureDir({ 'config.json': JSON.stringify({ bind_addr: '10.0.0.1', data_dir: dir }) });
  for (const target of [join(conf, 'config.json'), conf]) {
    const r = await run([target]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Configuration is valid!\n');
  }
});

test('-quiet prints nothing on success; warnings are printed otherwise', async () => {
  const dir = await fixtureDir();
  const conf = await fixtureDir({ 'c.hcl': `bind_addr = "10.0.0.1"\ndata_dir = "${dir}"\nacl_token = "t"` });
  const quiet = await run(['-quiet', conf]);
  assert.deepEqual(quiet, { code: 0, stdout: '', stderr: '' });
  const loud = await run([conf]);
  assert.equal(loud.code, 0);
  assert.match(loud.stderr, /The 'acl_token' field is deprecated\. Use the 'acl\.tokens\.default' field instead\./);
});

test('-config-format forces the format of files with other extensions', async () => {
  const dir = await fixtureDir();
  const conf = await fixtureDir({ 'json.conf': JSON.stringify({ bind_addr: '10.0.0.1', data_dir: dir }), 'hcl.conf': `bind_addr = "10.0.0.1"\ndata_dir = "${dir}"` });
  assert.equal((await run(['--config-format', 'json', join(conf, 'json.conf')])).code, 0);
  assert.equal((await run(['--config-format', 'hcl', join(conf, 'hcl.conf')])).code, 0);
  assert.equal((await run(['--config-format', 'hcl', join(conf, 'json.conf')])).code, 0);
  assert.equal((await run(['--config-format', 'json', join(conf, 'hcl.conf')])).code, 1);
});

test('failures exit 1 with Consul messages', async () => {
  const conf = await fixtureDir({ 'empty.json': '', 'bad.json': '{"bind_addr": "10.0.0.1", "data_dir": "/tmp", "bogus": 1}' });
  assert.deepEqual(await run(['-quiet', join(conf, 'empty.json')]), { code: 1, stdout: '', stderr: 'Config validation failed: data_dir cannot be empty\n' });
  const bad = await run([join(conf, 'bad.json')]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, `Config validation failed: failed to parse ${join(conf, 'bad.json')}: 1 error occurred:\n\t* invalid config key bogus\n\n\n`);
  assert.deepEqual(await run([]), { code: 1, stdout: '', stderr: 'Must specify at least one config file or directory\n' });
  assert.equal((await run(['-config-format=yaml', conf])).stderr, "-config-format must be either 'hcl' or 'json\n");
});
