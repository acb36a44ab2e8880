// Property test of the records pack.ts writes without dns-packet (IN A with a dotted quad, IN SRV)
// and of compress.ts's JavaScript name encoder: random names (empty, leading, trailing and doubled
// dots, escapes, spaces, control and non-ASCII characters, labels near and past 63 bytes, names near
// 255) and random record fields (TTLs, classes, cache-flush, addresses, SRV numbers out of range)
// must give dns-packet's bytes and size, or fail where dns-packet or the 63/255 limits fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket, { type Answer } from 'dns-packet';
import { packRecord } from './pack.ts';
import { encodeName } from './compress.ts';
import { seededRandom } from '../gossip/random.ts';

type Rnd = () => number;
const int = (rnd: Rnd, n: number): number => Math.floor(rnd() * n);
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[int(rnd, xs.length)];
const codec = dnsPacket as unknown as {
  name: { encode(n: string): Buffer };
  answer: { encode(a: Answer): Buffer; encodingLength(a: Answer): number };
};

/** Characters names are drawn from: mostly a DNS label's, some that take dns-packet's own path. */
const COMMON = 'abcxyz019-_';
const RARE = ['.', '.', '\\', ' ', '*', '@', '~', '\n', '\t', '\0', '\x7f', 'ü', 'é', '日', '\u{1F600}', '\ud800', 'A', 'Z'];

function label(rnd: Rnd): string {
  const len = rnd() < 0.1 ? pick(rnd, [0, 64, 70]) : pick(rnd, [1, 3, 8, 62, 63, int(rnd, 20)]);
  let s = '';
  for (let i = 0; i < len; i++) s += rnd() < 0.9 ? COMMON[int(rnd, COMMON.length)] : pick(rnd, RARE);
  return s;
}

/** A presentation name: 0–6 labels (a few long enough to pass 255 bytes), dots at either end now and then. */
export function randomName(rnd: Rnd): string {
  const labels: string[] = [];
  for (let n = int(rnd, 7); n > 0; n--) labels.push(label(rnd));
  if (rnd() < 0.1) labels.push(...Array.from({ length: 4 }, () => 'x'.repeat(60 + int(rnd, 4))));
  let name = labels.join('.');
  if (rnd() < 0.4) name += '.';
  if (rnd() < 0.1) name = `.${name}`;
  // Not '': dns-packet's own encoders give it two bytes in a one-byte slot (no answer or target is unnamed).
  return rnd() < 0.03 ? pick(rnd, ['.', '..', '...', 'a..', '..a']) : name || 'a';
}

/** What `f` returns, or the class of what it throws. */
function outcome<T>(f: () => T): T | string {
  try {
    return f();
  } catch (err) {
    return `throws ${(err as Error).constructor.name}`;
  }
}

function octet(rnd: Rnd): string {
  return String(pick(rnd, [0, 1, 10, 99, 127, 255, 256, 300, 999, int(rnd, 256)]));
}

function randomRecord(rnd: Rnd): Answer {
  const r: Record<string, unknown> = { name: randomName(rnd) };
  if (rnd() < 0.8) r.ttl = pick(rnd, [0, 1, 30, 86400, 0xffffffff, int(rnd, 1e6), 1.5, -1, 2 ** 32, Number.NaN]);
  if (rnd() < 0.2) r.class = pick(rnd, ['IN', 'CH', 'ANY']);
  if (rnd() < 0.1) r.flush = rnd() < 0.5;
  if (rnd() < 0.5) {
    r.type = 'A';
    const quad = [octet(rnd), octet(rnd), octet(rnd), octet(rnd)];
    r.data = rnd() < 0.9 ? quad.join('.') : pick(rnd, [`0${quad.join('.')}`, quad.slice(1).join('.'), '1.2.3.4.5']);
  } else {
    r.type = 'SRV';
    const num = (): number | undefined => (rnd() < 0.2 ? undefined : pick(rnd, [0, 1, 80, 8300, 65535, 65536, -1, 2.5, int(rnd, 65536)]));
    r.data = { priority: num(), weight: num(), port: num(), target: randomName(rnd) };
  }
  return r as unknown as Answer;
}

/** The limits pack.ts enforces beyond dns-packet's: labels of at most 63 bytes, names of at most 255. */
function withinLimits(bytes: Buffer): boolean {
  if (bytes.length > 255) return false;
  for (let i = 0; i < bytes.length && bytes[i] !== 0; i += bytes[i] + 1) if (bytes[i] > 63) return false;
  return true;
}

test('encodeName is dns-packet\'s name.encode for random names', () => {
  const rnd = seededRandom(0x5eed1);
  for (let i = 0; i < 20_000; i++) {
    const name = randomName(rnd);
    assert.deepEqual(outcome(() => encodeName(name)), outcome(() => codec.name.encode(name)), JSON.stringify(name));
  }
});

test('packRecord writes dns-packet\'s bytes and size for random A and SRV records, and fails where it or the name limits do', () => {
  const rnd = seededRandom(0x5eed2);
  let compared = 0;
  let direct = 0;
  for (let i = 0; i < 20_000; i++) {
    const a = randomRecord(rnd);
    const expected = outcome(() => codec.answer.encode(a));
    const names = [a.name, ...(a.type === 'SRV' ? [(a.data as { target: string }).target] : [])];
    const limited = names.every((n) => outcome(() => withinLimits(codec.name.encode(n))) === true);
    const got = outcome(() => {
      const p = packRecord(a, new Map());
      return { bytes: Buffer.concat([p.owner.bytes, p.wire]), size: p.size, type: p.type };
    });
    const label = JSON.stringify(a);
    if (typeof expected === 'string' || !limited) {
      assert.equal(typeof got, 'string', `${label}: packed, but dns-packet or the limits refuse it`);
      continue;
    }
    assert.notEqual(typeof got, 'string', `${label}: ${String(got)}`);
    const g = got as { bytes: Buffer; size: number; type: number };
    assert.deepEqual(g.bytes, expected, label);
    assert.equal(g.size, codec.answer.encodingLength(a), label);
    assert.equal(g.type, a.type === 'A' ? 1 : 33, label);
    compared++;
    const r = a as { class?: string; flush?: boolean };
    if ((r.class ?? 'IN') === 'IN' && !r.flush) direct++;
  }
  // Many draws are valid records, most of them of the kind pack.ts writes itself: the comparison is not vacuous.
  assert.ok(compared > 5_000 && direct > 4_000, `only ${compared} records compared, ${direct} IN without cache-flush`);
});
