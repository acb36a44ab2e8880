// Public surface of the DNS transport: configuration, the socket-free handler and the listeners.
export { dnsConfigFrom, serviceTtl, type DnsConfig } from './config.ts';
export { DnsHandler, type DnsHandlerDeps } from './handler.ts';
export { clientSubnet, errorReply, type ErrorReplyFlags } from './edns.ts';
export { DnsServer, type DnsAddresses, type DnsServerDeps } from './server.ts';
export { parseName, preferringNamespace, type DnsQuery, type ParsedName, type Locality } from './name.ts';
export { RCODE, rcodeFor } from './errors.ts';
export { RecursionDelegated, delegateRecursion, type Exchange } from './recursor.ts';
export { HostnamesDelegated } from './hostnames.ts';
export { UpstreamQueue, QuestionExpired, QuestionShed, QUEUE_DEFAULTS, questionBytes, replyWithId, shedReply, type CallSignal, type UpstreamQueueOptions } from './upstream-queue.ts';
export { MIN_WARMED, warmPrepared, warmedServices, type Warming } from './warm.ts';
