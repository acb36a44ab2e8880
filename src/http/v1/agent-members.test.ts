// /v1/agent/members, join and force-leave with admin partitions: the request's partition (query or
// header, `default` as absent), else the agent's, picks the members listed (servers in every
// partition, clients by their `ap` tag) and the ones force-leave may remove.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Member } from '../../gossip/index.ts';
import type { HttpRequest } from '../request.ts';
import { membersHandlers, type MembersDeps } from './agent-members.ts';

const member = (name: string, tags: Record<string, string>): Member => ({ name, addr: '127.0.0.1', port: 8301, tags, incarnation: 1, state: 'alive', stateChange: 0 });
const MEMBERS = [
  member('s1', { role: 'consul' }), member('c-default', { role: 'node' }),
  member('c-ap1', { role: 'node', ap: 'ap1' }), member('c-ap2', { role: 'node', ap: 'ap2' }),
];

function setup(extra: Partial<MembersDeps> = {}) {
  const left: string[] = [];
  const joined: string[][] = [];
  const deps: MembersDeps = {
    pool: {
      members: () => MEMBERS, localMember: () => MEMBERS[0], leaving: false,
      join: async (addrs) => { joined.push(addrs); return addrs.length; },
      gossip: { forceLeave: (name) => void left.push(name) },
    },
    nodeName: 's1', datacenter: 'dc1', server: true, serfWanPort: 8302, ...extra,
  };
  return { h: membersHandlers(deps), left, joined };
}

function req(url: string, headers: Record<string, string> = {}): HttpRequest {
  const u = new URL(url, 'http://agent');
  const rest = u.pathname.split('/').slice(4).join('/');
  return { method: 'GET', path: u.pathname, url, query: u.searchParams, headers, params: { rest }, body: async () => Buffer.alloc(0) } as unknown as HttpRequest;
}

const names = (r: { body?: unknown }) => (r.body as { Name: string }[]).map((m) => m.Name);

test('members: the agent\'s partition by default, ?partition= or the header another; default as absent', async () => {
  const { h } = setup();
  assert.deepEqual(names(await h.members(req('/v1/agent/members'))), ['s1', 'c-default']);
  assert.deepEqual(names(await h.members(req('/v1/agent/members?partition=default'))), ['s1', 'c-default']);
  assert.deepEqual(names(await h.members(req('/v1/agent/members?partition=AP1'))), ['s1', 'c-ap1']);
  assert.deepEqual(names(await h.members(req('/v1/agent/members', { 'x-consul-partition': 'ap2' }))), ['s1', 'c-ap2']);
  // A client agent of ap1 lists its own partition unless told otherwise.
  const client = setup({ partition: 'ap1', server: false, nodeName: 'c-ap1' });
  assert.deepEqual(names(await client.h.members(req('/v1/agent/members'))), ['s1', 'c-ap1']);
  assert.deepEqual(names(await client.h.members(req('/v1/agent/members?partition=default'))), ['s1', 'c-default']);
  await assert.rejects(h.members(req('/v1/agent/members?partition=no_t-a-label')), { message: /Invalid partition name/ });
});

test('force-leave removes only a member of the request\'s partition; join accepts a partition', async () => {
  const { h, left, joined } = setup();
  await assert.rejects(h.forceLeave(req('/v1/agent/force-leave/c-ap1')), { message: "agent: No node found with name 'c-ap1'" });
  assert.deepEqual(left, [], 'not in the default partition');
  await h.forceLeave(req('/v1/agent/force-leave/c-ap1?partition=ap1'));
  await h.forceLeave(req('/v1/agent/force-leave/c-default?partition=default'));
  assert.deepEqual(left, ['c-ap1', 'c-default']);
  await h.join(req('/v1/agent/join/10.0.0.9:8301?partition=ap1'));
  assert.deepEqual(joined, [['10.0.0.9:8301']]);
});

test('force-leave of a name in no pool is an error, as Consul; the agent itself is a no-op; a server also leaves <node>.<dc> from the WAN', async () => {
  const wanLeft: string[] = [];
  const wanMembers = [member('s1.dc1', { role: 'consul' }), member('c-default.dc1', { role: 'consul' })];
  const { h, left } = setup({
    wan: {
      enabled: true, members: () => wanMembers, localMember: () => wanMembers[0], leaving: false,
      join: async () => 0, gossip: { forceLeave: (name) => void wanLeft.push(name) },
    },
  });
  await assert.rejects(h.forceLeave(req('/v1/agent/force-leave/nobody')), (err: Error & { code?: string }) => {
    assert.equal(err.message, "agent: No node found with name 'nobody'");
    assert.equal(err.name, 'InternalError');
    return true;
  });
  await h.forceLeave(req('/v1/agent/force-leave/s1'));
  assert.deepEqual([left, wanLeft], [[], []]);
  await h.forceLeave(req('/v1/agent/force-leave/c-default?prune'));
  assert.deepEqual([left, wanLeft], [['c-default'], ['c-default.dc1']]);
});
