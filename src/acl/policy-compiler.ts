// Loads the policy compiler on first use: ACL rules parsed from HCL or JSON (Consul's legacy
// syntax translated), merged and turned into authorizers, and explain. An agent without ACLs, or
// before its first token with policies, never needs it, and answers its first request without
// its 11 modules (issue #9). Loaded with require (synchronous, sharing the ES module cache)
// because token resolution is synchronous.
import { createRequire } from 'node:module';

/** The compiler's functions (compile.ts). */
export type PolicyCompiler = typeof import('./compile.ts');

let compiler: PolicyCompiler | undefined;
const require = createRequire(import.meta.url);

/** The policy compiler, loaded on the first call. */
export function policyCompiler(): PolicyCompiler {
  return compiler ??= require('./compile.ts') as PolicyCompiler;
}
