// The tar writer and reader: names of every length round-trip, long names are written as Go's
// archive/tar writes them (ustar prefix when the name splits, else a PAX 'x' header), Debian's
// GNU tar lists and extracts what we write, and we read what GNU tar writes in PAX and GNU formats.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readTar, writeTar, type TarEntry } from './tar.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-tar-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

// GNU tar's listing of an archive, names printed as they are.
function gnuList(archive: Buffer): string[] {
  const file = path.join(tmp(), 'a.tar');
  fs.writeFileSync(file, archive);
  const out = execFileSync('tar', ['--quoting-style=literal', '-tf', file], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  return out.toString('utf8').split('\n').filter(Boolean);
}

// The type flags of the header blocks in order, walking sizes as a reader would.
function typeFlags(archive: Buffer): string[] {
  const out: string[] = [];
  for (let off = 0; off + 512 <= archive.length; ) {
    const h = archive.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    out.push(String.fromCharCode(h[156]));
    const size = parseInt(h.toString('ascii', 124, 135), 8);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const splittable = `${'d'.repeat(80)}/${'e'.repeat(40)}/state.bin`; // 131 bytes, splits at the last slash
const unsplittable = `dir/${'f'.repeat(120)}.json`; // the base alone is over 100 bytes
const unicode = 'débug/ünïcode-名前.json'; // short, but ustar holds ASCII only

describe('tar', () => {
  test('short, split, PAX and non-ASCII names round-trip with their data, mode and mtime', () => {
    const entries: TarEntry[] = [splittable, unsplittable, unicode, 'meta.json'].map((name, i) => ({
      name,
      data: Buffer.from(`content ${i} `.repeat(100 * i + 1)),
      mode: 0o640,
      mtimeMs: 1_700_000_000_000 + i * 1000,
    }));
    const back = readTar(writeTar(entries));
    assert.deepEqual(back, entries);
  });

  test('a splittable long name uses the ustar prefix, others a PAX header, as Go writes them', () => {
    const entry = (name: string) => ({ name, data: Buffer.from('x') });
    assert.deepEqual(typeFlags(writeTar([entry('short.json')])), ['0']);
    const split = writeTar([entry(splittable)]);
    assert.deepEqual(typeFlags(split), ['0']);
    assert.equal(split.toString('ascii', 345, 345 + 121), `${'d'.repeat(80)}/${'e'.repeat(40)}`);
    const pax = writeTar([entry(unsplittable)]);
    assert.deepEqual(typeFlags(pax), ['x', '0']);
    assert.equal(pax.toString('ascii', 0, 17), 'dir/PaxHeaders.0/');
    assert.match(pax.toString('utf8', 512, 1024), new RegExp(`^\\d+ path=${unsplittable}\\n`));
    assert.deepEqual(typeFlags(writeTar([entry(unicode)])), ['x', '0']);
  });

  test('a name over 100 bytes is no longer refused, whatever its length', () => {
    // 991..994-byte names put the PAX record's length across 999/1000, where it counts its own digit.
    for (let n = 990; n <= 995; n++) {
      const name = `${'p'.repeat(n - 5)}.json`;
      assert.equal(readTar(writeTar([{ name, data: Buffer.from('v') }]))[0].name, name);
      assert.deepEqual(gnuList(writeTar([{ name, data: Buffer.from('v') }])), [name]);
    }
  });

  test('GNU tar lists and extracts the long names we write', () => {
    const entries = [splittable, unsplittable, unicode].map((name) => ({ name, data: Buffer.from(name) }));
    const archive = writeTar(entries);
    assert.deepEqual(gnuList(archive), [splittable, unsplittable, unicode]);
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'a.tar'), archive);
    execFileSync('tar', ['-xf', 'a.tar'], { cwd: dir, env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    for (const name of [splittable, unsplittable, unicode]) assert.equal(fs.readFileSync(path.join(dir, name), 'utf8'), name);
  });

  test('reads the long names GNU tar writes in PAX and GNU formats', () => {
    const src = tmp();
    for (const name of [splittable, unsplittable, unicode]) {
      fs.mkdirSync(path.join(src, path.dirname(name)), { recursive: true });
      fs.writeFileSync(path.join(src, name), `data of ${name}`);
    }
    for (const format of ['pax', 'gnu']) {
      const file = path.join(tmp(), `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', file, splittable, unsplittable, unicode], { cwd: src, env: { ...process.env, LC_ALL: 'C.UTF-8' } });
      const files = readTar(fs.readFileSync(file));
      assert.deepEqual(
        files.map((f) => [f.name, f.data.toString('utf8')]),
        [splittable, unsplittable, unicode].map((n) => [n, `data of ${n}`]),
        format,
      );
    }
  });

  // An archive of one file 'a' ("data") after a PAX 'x' header holding `records` as they are.
  function withPax(records: string): Buffer {
    const file = writeTar([{ name: 'a', data: Buffer.from('data'), mtimeMs: 0 }]);
    const h = Buffer.from(file.subarray(0, 512));
    h.write('PaxHeaders.0/a\0', 0, 'ascii');
    h.write(`${Buffer.byteLength(records).toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    h[156] = 'x'.charCodeAt(0);
    h.write('        ', 148, 'ascii');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    const body = Buffer.from(records);
    return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512), file]);
  }

  test('PAX records are read as Go reads them: decimal lengths and sizes only, no NUL in a path, no empty key', () => {
    assert.deepEqual(readTar(withPax('11 path=bc\n')).map((e) => [e.name, e.data.toString()]), [['bc', 'data']]);
    assert.deepEqual(readTar(withPax('9 size=2\n')).map((e) => e.data.toString()), ['da']);
    for (const bad of ['0xc path=bc\n', '1e1 path=\n', '11 path=b\0\n', '6 =bc\n', '4 a\n\n']) {
      assert.throws(() => readTar(withPax(bad)), /invalid tar header: bad PAX record/, JSON.stringify(bad));
    }
    for (const bad of ['8 size=\n', '12 size=1e1\n', '12 size=0x1\n', '11 size=-1\n']) {
      assert.throws(() => readTar(withPax(bad)), /invalid tar header: bad size/, JSON.stringify(bad));
    }
    // A size past the archive is a truncated archive, not a read past its end.
    assert.throws(() => readTar(withPax('15 size=999999\n')), /unexpected EOF/);
  });

  test('a malformed PAX record is a malformed archive', () => {
    const archive = writeTar([{ name: unsplittable, data: Buffer.from('v') }]);
    archive.write('9', 512, 'ascii'); // the record's length no longer ends at its newline
    assert.throws(() => readTar(archive), /bad PAX record/);
  });
});
