// What `tls cert create` and `tls cert renew` certify, from their shared flags as Consul's
// commands work it out: the kind (-server, -client or -cli), its name and SANs, extended key
// usages, the file name prefix with the first free index, and the CA files with #DOMAIN# filled in.
import { isIP } from 'node:net';
import type { ExtKeyUsage } from '../agent/tls-generate.ts';
import type { FlagDef, ParsedFlags } from './flags.ts';
import type { CliIO } from './io.ts';
import { fileDoesNotExist } from './tls-files.ts';

/** The flags both commands take, in Consul's order (renew adds -existingkey). */
export const CERT_FLAGS: FlagDef[] = [
  { name: 'ca', kind: 'string', default: '#DOMAIN#-agent-ca.pem', usage: 'Provide path to the ca. Defaults to #DOMAIN#-agent-ca.pem.' },
  { name: 'key', kind: 'string', default: '#DOMAIN#-agent-ca-key.pem', usage: 'Provide path to the key. Defaults to #DOMAIN#-agent-ca-key.pem.' },
  { name: 'server', kind: 'bool', usage: 'Generate server certificate.' },
  { name: 'client', kind: 'bool', usage: 'Generate client certificate.' },
  { name: 'node', kind: 'string', default: '', usage: 'When generating a server cert and this is set an additional dns name is included of the form <node>.server.<datacenter>.<domain>.' },
  { name: 'cli', kind: 'bool', usage: 'Generate cli certificate.' },
  { name: 'days', kind: 'int', default: 365, usage: 'Provide number of days the certificate is valid for from now on. Defaults to 1 year.' },
  { name: 'dc', kind: 'string', default: 'dc1', usage: 'Provide the datacenter. Matters only for -server certificates. Defaults to dc1.' },
  { name: 'domain', kind: 'string', default: 'consul', usage: 'Provide the domain. Matters only for -server certificates.' },
  { name: 'additional-dnsname', kind: 'list', usage: 'Provide an additional dnsname for Subject Alternative Names. localhost is always included. This flag may be provided multiple times.' },
  { name: 'additional-ipaddress', kind: 'list', usage: 'Provide an additional ipaddress for Subject Alternative Names. 127.0.0.1 is always included. This flag may be provided multiple times.' },
];

/** A certificate to make. */
export interface CertPlan {
  server: boolean;
  name: string;
  dnsNames: string[];
  ipAddresses: string[];
  extKeyUsage: ExtKeyUsage[];
  certFileName: string;
  pkFileName: string;
  caFile: string;
  keyFile: string;
  days: number;
}

/** Consul's warning before a server certificate is made. */
export const SERVER_WARNING = `==> WARNING: Server Certificates grants authority to become a
    server and access all state in the cluster including root keys
    and all ACL tokens. Do not distribute them to production hosts
    that are not server nodes. Store them as securely as CA keys.`;

const MAX_INDEX = 10000;

function list(flags: ParsedFlags, name: string): string[] {
  return ((flags.values[name] as string[] | undefined) ?? []).filter((s) => s.length > 0).map((s) => s.trim());
}

/** Works the plan out from the flags; throws Consul's error text on a bad combination. */
export function certPlan(flags: ParsedFlags, io: CliIO): CertPlan {
  const str = (n: string): string => String(flags.values[n] ?? '');
  const [server, client, cli] = ['server', 'client', 'cli'].map((n) => flags.values[n] === true);
  if (str('ca') === '') throw new Error('Please provide the ca');
  if (str('key') === '') throw new Error('Please provide the key');
  if ([server, client, cli].filter(Boolean).length !== 1) throw new Error('Please provide either -server, -client, or -cli');
  if (str('node') !== '' && !server) throw new Error('-node requires -server');
  const dc = str('dc');
  const domain = str('domain');
  let dnsNames = list(flags, 'additional-dnsname');
  const ipAddresses = list(flags, 'additional-ipaddress');
  // Go's net.ParseIP takes no zone (fe80::1%eth0), which isIP accepts.
  for (const ip of ipAddresses) if (!isIP(ip) || ip.includes('%')) throw new Error(`Invalid IP address for -additional-ipaddress: ${JSON.stringify(ip)}`);
  const kind = server ? 'server' : client ? 'client' : 'cli';
  const name = `${kind}.${dc}.${domain}`;
  let extKeyUsage: ExtKeyUsage[] = [];
  if (server) {
    if (str('node') !== '') dnsNames.push(`${str('node')}.server.${dc}.${domain}`);
    dnsNames.push(name, 'localhost');
    ipAddresses.push('127.0.0.1');
    extKeyUsage = ['serverAuth', 'clientAuth'];
  } else if (client) {
    dnsNames.push(name, 'localhost');
    ipAddresses.push('127.0.0.1');
    extKeyUsage = ['clientAuth', 'serverAuth'];
  } else {
    // Consul replaces the additional DNS names of a CLI certificate but keeps its additional IPs.
    dnsNames = [name, 'localhost'];
  }
  const prefix = `${dc}-${kind}-${domain}`;
  const files = freeFileNames(io, prefix);
  return {
    server, name, dnsNames, ipAddresses, extKeyUsage, ...files,
    caFile: str('ca').replace('#DOMAIN#', domain), keyFile: str('key').replace('#DOMAIN#', domain), days: Number(flags.values.days),
  };
}

// The first index whose certificate and key files both do not exist yet.
function freeFileNames(io: CliIO, prefix: string): { certFileName: string; pkFileName: string } {
  for (let i = 0; i <= MAX_INDEX; i++) {
    const certFileName = `${prefix}-${i}.pem`;
    const pkFileName = `${prefix}-${i}-key.pem`;
    if (fileDoesNotExist(io, certFileName) && fileDoesNotExist(io, pkFileName)) return { certFileName, pkFileName };
  }
  throw new Error("Could not find a filename that doesn't already exist");
}
