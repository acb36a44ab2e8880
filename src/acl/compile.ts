// The policy compiler: ACL rules parsed from HCL or JSON (and Consul's legacy syntax translated),
// merged, and turned into authorizers, and the explanation of the rule that decided. Reached
// through policyCompiler() (policy-compiler.ts), which loads it on first use (issue #9).
export { explainSources, governingRule } from './explain.ts';
export { translateLegacyRules } from './legacy.ts';
export { mergePolicies, mergeRules } from './merge.ts';
export { PolicyAuthorizer } from './policy-authorizer.ts';
export { emptyPolicy, emptyRules, parseRules, SCALARS, SEGMENTED } from './rules.ts';
export { newPolicyAuthorizer } from './scoped-authorizer.ts';
export { validatePolicyHome } from './rules-validate.ts';
