import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { GRPCUnavailableError, type ICallable } from 'etcd3';
import { UnaryKv } from './unary.ts';

type Cb = (err: Error | null, res?: unknown) => void;
type Method = (req: unknown, md: Metadata, opts: { deadline: number }, cb: Cb) => void;

/** A stand-in for etcd3's pool: one host, run-once policies, the given KV client and token metadata. */
function pool(txn: Method, token?: () => string) {
  const seen = { invalidated: 0, md: [] as Metadata[] };
  const metadata = () => {
    const md = new Metadata();
    if (token) md.set('token', token());
    return md;
  };
  let cached: Metadata | null = null;
  const p = {
    globalPolicy: { execute: <T>(fn: () => Promise<T>) => fn() },
    authenticator: { invalidateMetadata: () => { seen.invalidated++; cached = null; } },
    hosts: [{}],
    withConnection: async <R>(_s: string, fn: (a: { client: unknown; metadata: Metadata }) => Promise<R>) => {
      const md = token ? (cached ??= metadata()) : metadata();
      return fn({ client: { txn: (req: unknown, m: Metadata, o: { deadline: number }, cb: Cb) => { seen.md.push(m); txn(req, m, o, cb); } }, metadata: md });
    },
  };
  return { calls: p as unknown as ICallable<unknown>, seen };
}

test('the stack trace limit is restored when the synchronous call throws, and the error reaches the caller', async () => {
  const before = Error.stackTraceLimit;
  const { calls } = pool(() => { throw new Error('Incorrect arguments passed'); });
  await assert.rejects(new UnaryKv(calls, 1000, false).call('txn', {}), /Incorrect arguments passed/);
  assert.equal(Error.stackTraceLimit, before);
  assert.ok((new Error('after').stack ?? '').split('\n').length > 1, 'errors made after the call have stacks');
});

test('a grpc failure reaches the caller typed (castGrpcError), with the limit restored', async () => {
  const before = Error.stackTraceLimit;
  const failure = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
  const { calls } = pool((_r, _m, _o, cb) => setImmediate(() => cb(failure)));
  await assert.rejects(new UnaryKv(calls, 1000, false).call('txn', {}), (e) => e instanceof GRPCUnavailableError);
  assert.equal(Error.stackTraceLimit, before);
});

test('every call requires a leader and has a deadline; with auth it carries the token, a new one after etcd drops it', async () => {
  let tokenNo = 1;
  let refused = false;
  const { calls, seen } = pool((_r, md, o, cb) => {
    assert.ok(o.deadline > Date.now() && o.deadline <= Date.now() + 1000);
    assert.deepEqual(md.get('hasleader'), ['true']);
    if (md.get('token')[0] === 't1' && !refused) {
      refused = true;
      return setImmediate(() => cb(new Error('16 UNAUTHENTICATED: etcdserver: invalid auth token')));
    }
    setImmediate(() => cb(null, { ok: md.get('token')[0] }));
  }, () => `t${tokenNo++}`);
  const kv = new UnaryKv(calls, 1000, true);
  assert.deepEqual(await kv.call('txn', {}), { ok: 't2' });
  assert.equal(seen.invalidated, 1);
  assert.deepEqual(seen.md.map((m) => m.get('token')[0]), ['t1', 't2']);

  const plain = pool((_r, md, _o, cb) => setImmediate(() => cb(null, md.get('token'))));
  assert.deepEqual(await new UnaryKv(plain.calls, 1000, false).call('txn', {}), []);
  assert.deepEqual(plain.seen.md[0].get('hasleader'), ['true']);
});
