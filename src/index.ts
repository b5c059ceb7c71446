/**
 * The platform-free core of edge-rollout: everything here runs on any Web-standard runtime and
 * imports no Worker binding types.
 */
export { fnv1a32, bucket, inPercent, BUCKETS } from './split/bucket';
export {
  assignCohort,
  decideVisitor,
  type Cohort,
  type CohortAssignment,
  type CohortReason,
  type VisitorDecision,
} from './split/decide-visitor';
export { evaluateFlags, flagValues, type FlagResult, type FlagReason } from './split/evaluate-flags';
export {
  RolloutConfigSchema,
  FlagSchema,
  BusinessRouteSchema,
  safeDefaultConfig,
  parseKillSwitch,
  KILL_SWITCH_KEY,
  NO_KILL,
  type KillSwitch,
} from './config/config-schema';
export type { RolloutConfig, RolloutConfigInput, FlagConfig, BusinessRoute } from './config/config-schema';
export { describeIssues } from './config/parse-config';
export { parseConfig } from './config/config-schema';
export { DEFAULT_THRESHOLDS, resolveThresholds, type Thresholds } from './guard/guard-settings';
export { analyzeCanary } from './guard/analyze-canary';
export type { CohortStats, WindowStats } from './guard/analyze-canary';
export { GuardVerdictRecordSchema, VerdictSchema } from './guard/analyze-canary';
export type {
  Verdict,
  GuardVerdict,
  GuardVerdictRecord,
  GuardAction,
  BreachReason,
} from './guard/analyze-canary';
export { GUARD_VERDICT_KEY, GUARD_INCIDENT_KEY } from './guard/guard-ports';
export { ANALYTICS_DATASETS, analyticsDatasetFor } from './guard/guard-settings';
export type { AdminCommand, AdminCommandType } from './admin/lifecycle';
export { applyCommand, type ApplyContext, type ApplyResult } from './admin/apply-command';
export { transition, stateAllowsPercent, type LifecycleCommand, type Transition } from './admin/lifecycle';
export {
  AuditEntrySchema,
  AuditActionSchema,
  type AuditEntry,
  type AuditAction,
} from './admin/history-and-audit';
export { historyKey, auditKey, HISTORY_PREFIX, AUDIT_PREFIX } from './admin/history-and-audit';
export {
  overrideTokens,
  OVERRIDE_COOKIE,
  type OverrideTokens,
  type VerifiedOverride,
} from './admin/override-token';
export { killSwitchText, type KillRequest } from './admin/kill-switch-text';
export { killState, type KillState } from './admin/kill-switch-text';
export {
  PercentBodySchema,
  FlagBodySchema,
  ReasonBodySchema,
  KillBodySchema,
  OverrideLinkBodySchema,
  ConfigBodySchema,
} from './admin/admin-schemas';
export {
  StateBodySchema,
  WriteResultSchema,
  AuditPageSchema,
  OverrideLinkSchema,
  ErrorBodySchema,
} from './admin/admin-schemas';
export { ADMIN_ROUTES, type AdminRouteSpec } from './admin/admin-routes';
export { buildOpenApiDocument, type OpenApiDocument } from './admin/openapi-document';
export type {
  ConfigStore,
  ConfigSnapshot,
  RawConfigSource,
  MetricsSink,
  ErrorReporter,
  Clock,
  Logger,
} from './ports';
