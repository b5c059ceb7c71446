/**
 * The platform-free core of edge-rollout: everything here runs on any Web-standard runtime and
 * imports no Worker binding types.
 */
export { fnv1a32 } from './hashing/fnv1a32';
export { bucket, inPercent, BUCKETS } from './hashing/bucket';
export { assignCohort, type Cohort, type CohortAssignment, type CohortReason } from './cohort/assign-cohort';
export { evaluateFlags, flagValues, type FlagResult, type FlagReason } from './flags/evaluate-flags';
export { RolloutConfigSchema, FlagSchema, BusinessRouteSchema } from './config/config-schema';
export type { RolloutConfig, RolloutConfigInput, FlagConfig, BusinessRoute } from './config/config-schema';
export { parseConfig } from './config/parse-config';
export { safeDefaultConfig } from './config/safe-default';
export { parseKillSwitch, KILL_SWITCH_KEY, NO_KILL, type KillSwitch } from './kill/kill-switch';
export { decideVisitor, type VisitorDecision } from './split/decide-visitor';
export { DEFAULT_THRESHOLDS, resolveThresholds, type Thresholds } from './guard/thresholds';
export { analyzeCanary } from './guard/analyze-canary';
export type { CohortStats, WindowStats } from './guard/cohort-stats';
export { GuardVerdictRecordSchema, VerdictSchema } from './guard/verdict';
export type { Verdict, GuardVerdict, GuardVerdictRecord, GuardAction, BreachReason } from './guard/verdict';
export { GUARD_VERDICT_KEY, GUARD_INCIDENT_KEY } from './guard/guard-keys';
export { ANALYTICS_DATASETS, analyticsDatasetFor } from './guard/analytics-dataset';
export type { AdminCommand, AdminCommandType } from './admin/admin-command';
export { applyCommand, type ApplyContext, type ApplyResult } from './admin/apply-command';
export { transition, stateAllowsPercent, type LifecycleCommand, type Transition } from './admin/lifecycle';
export { AuditEntrySchema, AuditActionSchema, type AuditEntry, type AuditAction } from './admin/audit-entry';
export { historyKey, auditKey, HISTORY_PREFIX, AUDIT_PREFIX } from './admin/storage-keys';
export {
  overrideTokens,
  OVERRIDE_COOKIE,
  type OverrideTokens,
  type VerifiedOverride,
} from './admin/override-token';
export { killSwitchText, type KillRequest } from './admin/kill-switch-text';
export { killState, type KillState } from './admin/kill-state';
export {
  PercentBodySchema,
  FlagBodySchema,
  ReasonBodySchema,
  KillBodySchema,
  OverrideLinkBodySchema,
  ConfigBodySchema,
} from './admin/admin-bodies';
export {
  StateBodySchema,
  WriteResultSchema,
  KillResultSchema,
  AuditPageSchema,
  OverrideLinkSchema,
  ErrorBodySchema,
} from './admin/admin-responses';
export { ADMIN_ROUTES, type AdminRouteSpec } from './admin/admin-routes';
export { buildOpenApiDocument, type OpenApiDocument } from './admin/openapi-document';
export { describeIssues } from './config/describe-issues';
export type { ConfigStore, ConfigSnapshot, RawConfigSource } from './ports/config-store';
export type { MetricsSink } from './ports/metrics-sink';
export type { ErrorReporter } from './ports/error-reporter';
export type { Clock } from './ports/clock';
export type { Logger } from './ports/logger';
