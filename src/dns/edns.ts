// EDNS0 (RFC 6891) as Consul's setEDNS echoes it: the request's OPT read (payload size, client
// subnet), the OPT a reply carries back, and the header-and-question error replies Proconsul
// makes itself (SERVFAIL when servers or recursors fail or a question is shed), which echo it too.
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';

const EDNS_MAX = 65535 - 68;

/** ECS as dns-packet decodes it. */
interface SubnetOption {
  code: 8;
  family?: number;
  ip?: string;
  sourcePrefixLength?: number;
  scopePrefixLength?: number;
}

function subnetOptions(req: DecodedPacket): SubnetOption[] {
  const opt = (req.additionals ?? []).find((a) => a.type === 'OPT');
  return opt && opt.type === 'OPT' ? (opt.options ?? []).filter((o) => o.code === 8) as unknown as SubnetOption[] : [];
}

/** The address of the request's EDNS0 client subnet, if it has one. */
export function clientSubnet(req: DecodedPacket): string | undefined {
  return subnetOptions(req)[0]?.ip || undefined;
}

/**
 * The EDNS0 OPT of the request and the OPT to echo: its payload size and client subnet, the
 * subnet's scope its source prefix when the answer holds only for that subnet (`scoped`), else 0
 * (valid everywhere), as Consul's setEDNS answers.
 */
export function ednsOf(req: DecodedPacket, scoped = false): { size: number; opt: Answer } | null {
  const opt = (req.additionals ?? []).find((a) => a.type === 'OPT');
  if (!opt || opt.type !== 'OPT') return null;
  const size = Math.min(Math.max(opt.udpPayloadSize, 512), EDNS_MAX);
  // Without the decoded bytes (`data`), which dns-packet would write as they came.
  const ecs = subnetOptions(req).map(({ code, family, ip, sourcePrefixLength = 0 }) => ({ code, family, ip, sourcePrefixLength, scopePrefixLength: scoped ? sourcePrefixLength : 0 }));
  return { size, opt: { type: 'OPT', name: '.', udpPayloadSize: opt.udpPayloadSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: ecs } as Answer };
}

/** How an error reply is flagged beyond the request's RD. */
export interface ErrorReplyFlags {
  /** AA: the question is under our domain (Consul's handleQuery sets it before answering). */
  authoritative: boolean;
  /** RA: the agent has recursors. */
  recursionAvailable: boolean;
}

/**
 * A reply to `msg` with `rcode`, its question, RD and CD echoed and the request's EDNS0 echoed with the
 * client subnet's scope 0, as Consul's setEDNS writes every error reply (SERVFAIL, NXDOMAIN) of
 * handleQuery and handleRecurse; null when the message has no readable question.
 */
export function errorReply(msg: Buffer, rcode: number, f: ErrorReplyFlags): Buffer | null {
  try {
    const req = dnsPacket.decode(msg);
    if (!req.questions?.length) return null;
    const flags = ((req.flags ?? 0) & (dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED)) | (f.authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
      (f.recursionAvailable ? dnsPacket.RECURSION_AVAILABLE : 0) | rcode;
    const edns = ednsOf(req);
    return dnsPacket.encode({ type: 'response', id: req.id, flags, questions: req.questions, additionals: edns ? [edns.opt] : [] });
  } catch {
    return null;
  }
}
