// /v1/operator/raft/* and /v1/operator/autopilot/*: the server set as Consul's Raft
// configuration, peer removal, leadership transfer, and autopilot configuration and health;
// reads need operator:read and changes operator:write, as in Consul's operator endpoints.
import type { Clock } from '../../clock.ts';
import { BadRequestError, NoLeaderError } from '../../errors.ts';
import type { Store } from '../../store/index.ts';
import type { Replica } from '../../state/index.ts';
import type { RuntimeConfig } from '../../agent/config/runtime.ts';
import type { LeaderElection } from '../../leader/election-types.ts';
import { configFromAgent, decodeConfig, health, readConfig, state, writeConfig } from '../../leader/autopilot.ts';
import { isVoter, membershipNow } from '../../leader/autopilot-loop.ts';
import type { HttpResult } from '../router.ts';
import { parseJSON } from '../body.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { AUTOPILOT_CONFIGURATION } from '../request-fields.ts';
import { authorize } from '../../endpoint/index.ts';
import { authzOf, checkDatacenter, flag, uint64Param, type HttpRequest, type RequestConfig } from '../request.ts';

/** What the operator handlers read. */
export interface OperatorDeps {
  election: LeaderElection;
  store: Store;
  replica: Replica;
  clock: Clock;
  config: RuntimeConfig;
  reqCfg: RequestConfig;
}

/** Handlers for the operator routes. */
export function operatorHandlers(d: OperatorDeps) {
  const { election } = d;
  const agentDefault = () => configFromAgent(d.config.raw.autopilot as Record<string, unknown> | undefined);
  // Consul forwards these reads to the leader; without one only ?stale answers. Reads need operator:read.
  const leaderRead = (req: HttpRequest) => {
    checkDatacenter(req, d.reqCfg);
    authorize(authzOf(req, d.reqCfg), 'operatorRead');
    if (!flag(req, 'stale') && !election.knownLeader()) throw new NoLeaderError();
  };
  // A managed cluster's leader publishes which servers are etcd learners (non-voters).
  const operatorWrite = (req: HttpRequest) => {
    checkDatacenter(req, d.reqCfg);
    authorize(authzOf(req, d.reqCfg), 'operatorWrite');
  };
  const autopilotHealth = async () => {
    const membership = await membershipNow(d.store);
    return health(election, await readConfig(d.store, agentDefault()), d.clock.now(), (s) => isVoter(s, membership));
  };
  return {
    async raftConfiguration(req: HttpRequest): Promise<HttpResult> {
      leaderRead(req);
      const leader = election.leader();
      const applied = d.replica.appliedRevision;
      const membership = await membershipNow(d.store);
      const Servers = election.servers().map((s) => ({
        ID: s.ID, Node: s.Node, Address: s.Address, Leader: s.Lease === leader?.Lease, ProtocolVersion: '3',
        Voter: isVoter(s, membership), LastIndex: s.Node === election.self().Node ? applied : s.LastIndex,
      }));
      return { body: { Servers, Index: election.index() } };
    },
    async raftPeerDelete(req: HttpRequest): Promise<HttpResult> {
      operatorWrite(req);
      const id = req.query.get('id') ?? '';
      const address = req.query.get('address') ?? '';
      if (!id && !address) throw new BadRequestError("Must specify either ?id with the server's ID or ?address with IP:port of peer to remove");
      await election.removePeer(id ? { id } : { address });
      return { body: null };
    },
    async transferLeader(req: HttpRequest): Promise<HttpResult> {
      operatorWrite(req);
      // Without an ID, Consul hands leadership to another voter: on a managed cluster, an etcd voter.
      let id = req.query.get('id') || undefined;
      const membership = id ? null : await membershipNow(d.store);
      if (!id && membership) id = election.servers().find((s) => s.Lease !== election.leader()?.Lease && isVoter(s, membership))?.ID;
      await election.transfer(id);
      return { body: { Success: true } };
    },
    async autopilotGetConfig(req: HttpRequest): Promise<HttpResult> {
      leaderRead(req);
      return { body: await readConfig(d.store, agentDefault()) };
    },
    async autopilotSetConfig(req: HttpRequest): Promise<HttpResult> {
      operatorWrite(req);
      // Go's json.Decoder over api.NewAutopilotConfiguration(): no body is EOF, `null` keeps the defaults.
      const body = parseJSON(await req.body(), 'Error parsing autopilot config');
      if (body === undefined) throw new BadRequestError('Error parsing autopilot config: EOF');
      if (body !== null && (typeof body !== 'object' || Array.isArray(body))) {
        const kind = Array.isArray(body) ? 'array' : typeof body === 'boolean' ? 'bool' : typeof body;
        throw new BadRequestError(`Error parsing autopilot config: json: cannot unmarshal ${kind} into Go value of type api.AutopilotConfiguration`);
      }
      refuseUnknownFields(body, AUTOPILOT_CONFIGURATION, 'Error parsing autopilot config');
      const next = decodeConfig((body ?? {}) as Record<string, unknown>);
      let cas: bigint | undefined;
      try {
        cas = uint64Param(req, 'cas');
      } catch (err) {
        throw new BadRequestError(`Error parsing cas value: ${(err as Error).message}`);
      }
      return { body: await writeConfig(d.store, next, cas === undefined ? undefined : Number(cas)) };
    },
    async autopilotHealth(req: HttpRequest): Promise<HttpResult> {
      leaderRead(req);
      const h = await autopilotHealth();
      return { status: h.Healthy ? 200 : 429, body: h };
    },
    async autopilotState(req: HttpRequest): Promise<HttpResult> {
      leaderRead(req);
      const membership = await membershipNow(d.store);
      const cfg = await readConfig(d.store, agentDefault());
      const now = d.clock.now();
      return { body: state(election, health(election, cfg, now, (s) => isVoter(s, membership)), cfg, membership, now) };
    },
  };
}
