// The public surface of @pswm/schemas: the policy model, the pure loader/validator, compiler and
// planner, and the readers that turn a directory or a git revision into repository files.
export * from './model.ts';
export { POLICY_ERRORS, policyError, sortErrors, formatError, type PolicyErrorCode } from './errors.ts';
export { matchTargets, factsMatch, factAt, factPathsOf, SPECIFICITY, type Specificity } from './targets.ts';
export { canonicalJson, sha256Hex } from './canonical-json.ts';
export { settingsDefaults, reconcileDefaults } from './json-schema.ts';
export { loadPolicy, DEFAULT_POLICY_LIMITS, type PolicyLimits } from './validate/load-policy.ts';
export { createParseCache, type ParseCache } from './validate/parse-cache.ts';
export { compileGroup } from './compile/compile-group.ts';
export { createCompiler, type Compiler } from './compile/compiler.ts';
export { assembleDocument, documentDigest } from './compile/assemble.ts';
export { groupKey, referencedFactPaths } from './compile/group-key.ts';
export { explainSettings, type ExplainedSetting, type SettingSource } from './compile/explain.ts';
export { inventory, type Inventory, type InventoryEntry } from './plan/inventory.ts';
export { planChanges, type Plan, type GroupChange, type ObjectRef } from './plan/plan.ts';
export { renderPlanText } from './plan/render-text.ts';
export { findGitdir, readPolicyRevision, type PolicyRevision } from './source/git.ts';
export { readPolicyDir } from './source/dir.ts';
