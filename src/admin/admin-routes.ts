import * as z from 'zod/mini';
import { FlagNameSchema, RolloutConfigSchema } from '../config/config-schema';
import { OutcomeEventsBodySchema } from '../metrics/outcome-events';
import {
  AuditPageSchema,
  AuditQuerySchema,
  ConfigBodySchema,
  EventsAcceptedSchema,
  FlagBodySchema,
  HealthSchema,
  KillBodySchema,
  OverrideLinkBodySchema,
  OverrideLinkSchema,
  OverrideQuerySchema,
  PercentBodySchema,
  ReasonBodySchema,
  StateBodySchema,
  WriteResultSchema,
} from './admin-schemas';
import { PreviewBodySchema } from './preview-request';

/** A schema with the name it has under `components.schemas`. */
export interface NamedSchema {
  name: string;
  schema: z.core.$ZodType;
}

/** One admin route, described once for the OpenAPI document and the route-coverage test. */
export interface AdminRouteSpec {
  method: 'get' | 'put' | 'post' | 'delete';
  /** The path under the admin prefix, in Hono syntax (`/flags/:name`). */
  path: string;
  summary: string;
  /** Whether the route needs admin credentials. */
  auth: boolean;
  params?: Record<string, z.core.$ZodType>;
  query?: z.core.$ZodType;
  body?: NamedSchema & { required: boolean };
  /** Whether `If-Match: <version>` is honoured. */
  ifMatch?: boolean;
  success: { status: 200 | 202 | 302; description: string; body?: NamedSchema };
  errors: readonly number[];
}

const writeResult: NamedSchema = { name: 'WriteResult', schema: WriteResultSchema };
const reasonBody = { name: 'ReasonBody', schema: ReasonBodySchema, required: false };
const writeErrors = [400, 401, 409, 412, 429, 503] as const;

const transitionRoute = (path: string, summary: string): AdminRouteSpec => ({
  method: 'post',
  path,
  summary,
  auth: true,
  body: reasonBody,
  ifMatch: true,
  success: { status: 200, description: 'the new version', body: writeResult },
  errors: writeErrors,
});

const MoveSchema = z.object({
  subject: z.string(),
  from: z.string(),
  to: z.string(),
  share: z.number(),
  exact: z.boolean(),
  error: z.number(),
  /** Optional so that a CLI reads the answer of a control Worker one version back. */
  margin95: z.optional(z.number()),
  requests: z.optional(z.number()),
});

/**
 * The answer of `POST /preview`: the preview, and the version and config the write would make.
 * Described here with the route table, since only the document uses it: the script need not
 * carry it.
 */
export const PreviewAnswerSchema = z.object({
  /** The version the preview was computed against (also the `ETag`, for `If-Match`). */
  currentVersion: z.int(),
  /** The version the write would make (the current one when it changes nothing). */
  version: z.int(),
  changed: z.boolean(),
  config: RolloutConfigSchema,
  /** The API kill switch the write would leave (null: none). */
  kill: z.nullable(z.string()),
  preview: z.object({
    movesVisitors: z.boolean(),
    canaryShare: z.object({ before: z.number(), after: z.number() }),
    moves: z.array(MoveSchema),
    sample: z.object({ size: z.int(), seed: z.string(), estimated: z.optional(z.int()) }),
    traffic: z.optional(z.object({ windowMinutes: z.int(), stable: z.number(), canary: z.number() })),
    summary: z.array(z.string()),
  }),
});

/** The components every document carries, whether or not a route names them directly. */
export const SHARED_SCHEMAS: readonly NamedSchema[] = [
  { name: 'RolloutConfig', schema: RolloutConfigSchema },
];

/**
 * Every admin route under the prefix. The Hono sub-app registers exactly these (a test compares
 * the two), and the OpenAPI document is generated from this table and its zod schemas.
 */
export const ADMIN_ROUTES: readonly AdminRouteSpec[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'Liveness; needs no credentials and reveals nothing',
    auth: false,
    success: { status: 200, description: 'alive', body: { name: 'Health', schema: HealthSchema } },
    errors: [],
  },
  {
    method: 'get',
    path: '/state',
    summary: 'Current config, version, lifecycle state, kill switch and guard verdict, read from KV',
    auth: true,
    success: { status: 200, description: 'the state', body: { name: 'State', schema: StateBodySchema } },
    errors: [401, 429, 503],
  },
  {
    method: 'put',
    path: '/percent',
    summary: 'Set the canary percent (0–100, two decimals)',
    auth: true,
    body: { name: 'PercentBody', schema: PercentBodySchema, required: true },
    ifMatch: true,
    success: { status: 200, description: 'the new version', body: writeResult },
    errors: writeErrors,
  },
  {
    method: 'put',
    path: '/config',
    summary: 'Replace the whole config',
    auth: true,
    body: { name: 'ConfigBody', schema: ConfigBodySchema, required: true },
    ifMatch: true,
    success: { status: 200, description: 'the new version', body: writeResult },
    errors: writeErrors,
  },
  {
    method: 'put',
    path: '/flags/:name',
    summary: "Turn a flag's rollout on or off, optionally at a percent",
    auth: true,
    params: { name: FlagNameSchema },
    body: { name: 'FlagBody', schema: FlagBodySchema, required: true },
    ifMatch: true,
    success: { status: 200, description: 'the new version', body: writeResult },
    errors: writeErrors,
  },
  transitionRoute('/promote', 'Send everyone to the canary (ramping or paused → promoted)'),
  transitionRoute('/finalize', 'Make the canary the new stable origin (promoted → finalized)'),
  transitionRoute('/abort', 'Send everyone back to stable (ramping, paused or promoted → aborted)'),
  transitionRoute('/pause', 'Hold the percent (ramping → paused)'),
  transitionRoute('/resume', 'Release a hold (paused → ramping)'),
  {
    ...transitionRoute('/undo', 'Restore the previous version as a new version; needs If-Match'),
    errors: [...writeErrors, 428],
  },
  {
    method: 'put',
    path: '/kill',
    summary: 'Set the kill switch: stop the canary and/or force flags off',
    auth: true,
    body: { name: 'KillBody', schema: KillBodySchema, required: true },
    ifMatch: true,
    success: {
      status: 200,
      description: 'the kill switch now in force',
      body: { name: 'WriteResult', schema: WriteResultSchema },
    },
    errors: [400, 401, 412, 429, 503],
  },
  {
    method: 'delete',
    path: '/kill',
    summary: 'Lift the kill switch',
    auth: true,
    body: reasonBody,
    ifMatch: true,
    success: {
      status: 200,
      description: 'the kill switch now in force',
      body: { name: 'WriteResult', schema: WriteResultSchema },
    },
    errors: [400, 401, 412, 429, 503],
  },
  {
    method: 'put',
    path: '/bypass',
    summary: 'Bypass mode on: visitor paths go to stable as they came (no cookie, no flags)',
    auth: true,
    body: reasonBody,
    ifMatch: true,
    success: { status: 200, description: 'bypass now in force', body: writeResult },
    errors: [400, 401, 412, 429, 503],
  },
  {
    method: 'delete',
    path: '/bypass',
    summary: 'Bypass mode off (a hand-set KV bypass stays)',
    auth: true,
    body: reasonBody,
    ifMatch: true,
    success: { status: 200, description: 'bypass lifted', body: writeResult },
    errors: [400, 401, 412, 429, 503],
  },
  {
    method: 'get',
    path: '/audit',
    summary: 'The audit log, newest first, paged by cursor',
    auth: true,
    query: AuditQuerySchema,
    success: { status: 200, description: 'one page', body: { name: 'AuditPage', schema: AuditPageSchema } },
    errors: [400, 401, 429, 503],
  },
  {
    method: 'post',
    path: '/override-link',
    summary: 'Create a signed link that pins the browser opening it to a cohort',
    auth: true,
    body: { name: 'OverrideLinkBody', schema: OverrideLinkBodySchema, required: true },
    success: {
      status: 200,
      description: 'the link',
      body: { name: 'OverrideLink', schema: OverrideLinkSchema },
    },
    errors: [400, 401, 429, 503],
  },
  {
    method: 'get',
    path: '/override',
    summary: 'Open an override link: sets the rollout_override cookie and redirects to /',
    auth: false,
    query: OverrideQuerySchema,
    success: { status: 302, description: 'cookie set; redirect to /' },
    errors: [400, 403, 503],
  },
  {
    method: 'post',
    path: '/events',
    summary: 'Record outcomes the Worker cannot see (e.g. email delivered or bounced) per cohort',
    auth: true,
    body: { name: 'OutcomeEventsBody', schema: OutcomeEventsBodySchema, required: true },
    success: {
      status: 202,
      description: 'recorded',
      body: { name: 'EventsAccepted', schema: EventsAcceptedSchema },
    },
    errors: [400, 401, 413, 429, 503],
  },
  {
    method: 'post',
    path: '/preview',
    summary: 'What a change would move (cohorts, flag values), exact or estimated; changes nothing',
    auth: true,
    body: { name: 'PreviewBody', schema: PreviewBodySchema, required: true },
    ifMatch: true,
    success: {
      status: 200,
      description: 'the preview, and the version and config the write would make',
      body: { name: 'PreviewAnswer', schema: PreviewAnswerSchema },
    },
    errors: [400, 401, 409, 412, 422, 429, 503],
  },
  {
    method: 'get',
    path: '/session',
    summary:
      "For the cockpit: who is signed in, where a browser's own cohort page is, whether the guard is configured",
    auth: true,
    success: { status: 200, description: 'actor, mePath, visitorCookie, guard' },
    errors: [401, 429, 503],
  },
  {
    method: 'get',
    path: '/series',
    summary:
      'For the cockpit: canary against stable per minute (error rate, p95, share, business metrics, config versions) with thresholds and audit marks',
    auth: true,
    success: { status: 200, description: 'panels per minute, or why there are none (available: false)' },
    errors: [400, 401, 429, 503],
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    auth: true,
    success: { status: 200, description: 'OpenAPI 3.1' },
    errors: [401, 429, 503],
  },
];
