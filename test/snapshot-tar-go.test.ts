// The snapshot tar writer against Go's archive/tar (what Consul's snapshot archive and its tools
// use): for short, ustar-split, PAX and non-ASCII names our archive is byte for byte the one Go
// writes for the same entries, and Go's reader lists our names. Needs Go (golang-go in .ci/run).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeTar, type TarEntry } from '../src/snapshot/index.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-gotar-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// `write`: entries as JSON lines on stdin (name, base64 data, mode, unix mtime) → a tar on stdout.
// `list <file>`: one line per entry, `name size mode mtime`.
const PROGRAM = `package main

import (
	"archive/tar"
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

type entry struct {
	Name  string
	Data  string
	Mode  int64
	Mtime int64
}

func main() {
	if os.Args[1] == "list" {
		f, err := os.Open(os.Args[2])
		if err != nil {
			panic(err)
		}
		r := tar.NewReader(f)
		for {
			h, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				panic(err)
			}
			fmt.Printf("%s %d %o %d\\n", h.Name, h.Size, h.Mode, h.ModTime.Unix())
		}
	}
	w := tar.NewWriter(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	for in.Scan() {
		var e entry
		if err := json.Unmarshal(in.Bytes(), &e); err != nil {
			panic(err)
		}
		data, _ := base64.StdEncoding.DecodeString(e.Data)
		hdr := &tar.Header{Name: e.Name, Mode: e.Mode, Size: int64(len(data)), ModTime: time.Unix(e.Mtime, 0), Typeflag: tar.TypeReg}
		if err := w.WriteHeader(hdr); err != nil {
			panic(err)
		}
		w.Write(data)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
}
`;

function go(args: string[], input?: string): Buffer {
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: path.join(dir, 'gopath'), GOCACHE: path.join(dir, 'gocache'), GOFLAGS: '' };
  const r = spawnSync('go', ['run', path.join(dir, 'main.go'), ...args], { env, input, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

const entries: TarEntry[] = [
  'meta.json',
  `${'d'.repeat(80)}/${'e'.repeat(40)}/state.bin`,
  `dir/${'f'.repeat(120)}.json`,
  'débug/ünïcode-名前.json',
  `${'p'.repeat(988)}.json`,
].map((name, i) => ({ name, data: Buffer.from(`content ${i} `.repeat(100 * i + 1)), mode: 0o640, mtimeMs: (1_700_000_000 + i) * 1000 }));

test('our tar is byte for byte the one Go writes, and Go lists our long names', () => {
  fs.writeFileSync(path.join(dir, 'main.go'), PROGRAM);
  const input = entries.map((e) => JSON.stringify({ Name: e.name, Data: e.data.toString('base64'), Mode: e.mode, Mtime: e.mtimeMs! / 1000 })).join('\n');
  const ours = writeTar(entries);
  assert.ok(ours.equals(go(['write'], input)), 'the same bytes as archive/tar');
  fs.writeFileSync(path.join(dir, 'ours.tar'), ours);
  const listed = go(['list', path.join(dir, 'ours.tar')]).toString('utf8').trim().split('\n');
  assert.deepEqual(listed, entries.map((e) => `${e.name} ${e.data.length} 640 ${e.mtimeMs! / 1000}`));
});
