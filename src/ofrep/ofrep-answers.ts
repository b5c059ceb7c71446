import { base64UrlEncode } from '../encoding';
import type { ConfigSnapshot } from '../ports';
import { assignCohort, type Cohort } from '../split/decide-visitor';
import {
  evaluateConfigFlags,
  type FlagPins,
  type FlagReason,
  type FlagResult,
  type FlagValue,
} from '../split/evaluate-flags';
import { contextAttributes, type FlagContext } from '../split/flag-conditions';
import type { OfrepRequest } from './ofrep-request';

/**
 * What the Worker answers an OFREP client, computed by the splitter's own evaluation
 * (`evaluateFlags` with the same config, kill switch, hashed id and attributes), so an OpenFeature
 * client and the `x-feature-flags` header the origin receives agree for the same visitor whenever
 * the context carries the same attribute values the request does.
 */

/** OpenFeature reasons this Worker gives (PREREQUISITE_FAILED is ours, as LaunchDarkly's). */
export type OfrepReason =
  'STATIC' | 'SPLIT' | 'DEFAULT' | 'DISABLED' | 'TARGETING_MATCH' | 'PREREQUISITE_FAILED' | 'ERROR';

/** Flag metadata: primitives only, as OpenFeature flag metadata allows. */
export type OfrepMetadata = Record<string, string | number | boolean>;

/** One successful evaluation, the body of `200` on `POST /ofrep/v1/evaluate/flags/{key}`. */
export interface OfrepEvaluation {
  key: string;
  /** The typed value: boolean, string, number, or an object (a JSON flag). */
  value: FlagValue;
  reason: OfrepReason;
  /** The variant's name (`on`/`off` for today's boolean flags). */
  variant: string;
  metadata: OfrepMetadata;
}

/** The body of `200` on the bulk route. */
export interface OfrepBulkAnswer {
  flags: OfrepEvaluation[];
  metadata: OfrepMetadata;
}

/** The body of `404` on the single-flag route. */
export interface OfrepFlagNotFound {
  key: string;
  errorCode: 'FLAG_NOT_FOUND';
  errorDetails: string;
}

/** Options of the evaluations. */
export interface OfrepEvaluationOptions {
  /** The QA override cookie's cohort, when the request carries one. */
  override?: Cohort;
  /** The QA override cookie's flag pins, given only when the context evaluates the requesting visitor. */
  pins?: FlagPins;
  /**
   * The request's own attributes (path, country, cookies, …), for the names the context lacks:
   * given only when the context evaluates the requesting visitor, so a browser on the app's
   * domain gets what `x-feature-flags` carries for it.
   */
  requestAttributes?: FlagContext;
}

// The kill switch forces a flag off: to OpenFeature that is a disabled flag. The metadata says
// which of the two it was. A QA pin is targeting (this browser, by its signed cookie), with
// `override: true` in the metadata, so an OpenFeature client keeps to the standard reasons.
const REASON: Record<FlagReason, OfrepReason> = {
  OVERRIDE: 'TARGETING_MATCH',
  STATIC: 'STATIC',
  SPLIT: 'SPLIT',
  DEFAULT: 'DEFAULT',
  DISABLED: 'DISABLED',
  KILLED: 'DISABLED',
  TARGETING_MATCH: 'TARGETING_MATCH',
  PREREQUISITE_FAILED: 'PREREQUISITE_FAILED',
  ERROR: 'ERROR',
};

/**
 * The metadata every answer for this request carries: the config version, and the routing cohort
 * when the context asked for it (computed as the splitter does: kill switch, state, override).
 */
function requestMetadata(
  snapshot: ConfigSnapshot,
  request: OfrepRequest,
  options: OfrepEvaluationOptions,
): OfrepMetadata {
  const metadata: OfrepMetadata = { configVersion: snapshot.config.version };
  if (request.includeCohort) {
    const { rollout } = snapshot.config;
    metadata.cohort = assignCohort({
      visitorId: request.targetingKey,
      percent: rollout.percent,
      salt: rollout.salt,
      state: rollout.state,
      killed: snapshot.kill.canary,
      override: options.override,
    }).cohort;
  }
  return metadata;
}

function toEvaluation(key: string, result: FlagResult, shared: OfrepMetadata): OfrepEvaluation {
  let metadata = shared;
  if (result.reason === 'KILLED') metadata = { ...shared, killed: true };
  else if (result.reason === 'OVERRIDE') metadata = { ...shared, override: true };
  else if (result.rule !== undefined) metadata = { ...shared, rule: result.rule };
  return { key, value: result.value, reason: REASON[result.reason], variant: result.variant, metadata };
}

/** Every flag for the request: the context's attributes (then the request's own) and its key. */
function evaluateRequest(
  snapshot: ConfigSnapshot,
  request: OfrepRequest,
  options: OfrepEvaluationOptions,
): Record<string, FlagResult> {
  const context = contextAttributes(request.targetingKey, request.context, options.requestAttributes);
  return evaluateConfigFlags(snapshot.config, context, snapshot.kill, options.pins);
}

/**
 * Evaluates one flag for the request's targeting key; `FLAG_NOT_FOUND` when the config has no
 * flag of that name.
 *
 * @example
 * evaluateOfrepFlag(snapshot, 'templates', { targetingKey: 'abc12345', keySource: 'context', includeCohort: false, context: {} });
 * // { found: true, evaluation: { key: 'templates', value: true, reason: 'SPLIT', variant: 'on', metadata: { configVersion: 7 } } }
 */
export function evaluateOfrepFlag(
  snapshot: ConfigSnapshot,
  key: string,
  request: OfrepRequest,
  options: OfrepEvaluationOptions = {},
): { found: true; evaluation: OfrepEvaluation } | { found: false; body: OfrepFlagNotFound } {
  const results = evaluateRequest(snapshot, request, options);
  // Own properties only: `constructor` or `toString` is no flag, whatever the prototype says.
  if (!Object.hasOwn(results, key))
    return {
      found: false,
      body: { key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `no flag named ${JSON.stringify(key)}` },
    };
  return {
    found: true,
    evaluation: toEvaluation(key, results[key]!, requestMetadata(snapshot, request, options)),
  };
}

/**
 * Evaluates every flag of the config for the request's targeting key, in the config's order.
 *
 * @example
 * evaluateOfrepBulk(snapshot, request).flags.map((f) => f.key); // ['fileStorage', 'templates', ...]
 */
export function evaluateOfrepBulk(
  snapshot: ConfigSnapshot,
  request: OfrepRequest,
  options: OfrepEvaluationOptions = {},
): OfrepBulkAnswer {
  const shared = requestMetadata(snapshot, request, options);
  const results = evaluateRequest(snapshot, request, options);
  return {
    flags: Object.entries(results).map(([key, result]) => toEvaluation(key, result, shared)),
    metadata: shared,
  };
}

/**
 * The bulk answer's entity tag: a SHA-256 (128 bits kept) of the targeting key and the exact body
 * text. Any change in an answer for this context (a value, a reason, the config version, the
 * cohort asked for) changes the body and so the tag, and the key makes two contexts' tags
 * differ even when their answers are the same: a tag can never validate another context's cache.
 *
 * @example
 * await ofrepEtag('abc12345', '{"flags":[]}'); // '"ofrep-3q2…"' (24 chars inside the quotes)
 */
export async function ofrepEtag(targetingKey: string, bodyText: string): Promise<string> {
  // The key's length goes first so that no key/body split can be mistaken for another.
  const bytes = new TextEncoder().encode(`${targetingKey.length}:${targetingKey}\n${bodyText}`);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `"ofrep-${base64UrlEncode(digest.subarray(0, 16))}"`;
}

/**
 * Whether an `If-None-Match` header names this entity tag (weak comparison, as RFC 9110 wants
 * for `If-None-Match`), so that the bulk route answers `304`.
 *
 * `*` names no tag here. OFREP uses `If-None-Match` only to revalidate a tag from an earlier
 * answer; `*` names none, and on a POST it means "only if there is no current representation"
 * (RFC 9110 §13.1.2), which a `304` never answers. An evaluation has no state to protect, so the
 * request is answered in full: a client that sends `*` gets flags, not an empty `304`.
 *
 * @example
 * ifNoneMatchNames('W/"a", "b"', '"b"'); // true
 * ifNoneMatchNames('*', '"b"'); // false
 */
export function ifNoneMatchNames(header: string | null, etag: string): boolean {
  if (header === null) return false;
  const opaque = etag.replace(/^W\//, '');
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if (tag !== '*' && tag.replace(/^W\//, '') === opaque) return true;
  }
  return false;
}
