import * as z from 'zod/mini';
import type { RolloutConfig } from '../config/config-schema';
import { describeIssues } from '../config/parse-config';
import { isValidIdentityValue, isValidVisitorId, readCookie } from '../split/decide-visitor';

/**
 * What an OpenFeature Remote Evaluation Protocol (OFREP) client asks: the request body and its
 * evaluation context, and whose flags they are (the targeting key, which is the id the splitter
 * hashes). Platform-free: the Worker hands in the body text and the request headers.
 */

/** The largest request body read; an OFREP context is a few hundred bytes. */
export const MAX_OFREP_BODY_BYTES = 16_384;

/** The error codes of a 400 answer, as the OFREP spec names them. */
export type OfrepRequestErrorCode = 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL';

/** Why a request cannot be evaluated: the OFREP error code and a sentence for the developer. */
export interface OfrepRequestError {
  errorCode: OfrepRequestErrorCode;
  errorDetails: string;
}

/** What an evaluation needs from the request. */
export interface OfrepRequest {
  /** The id to hash: the context's `targetingKey`, else the identity header, else the cookie. */
  targetingKey: string;
  /** Where the targeting key came from. */
  keySource: 'context' | 'identity-header' | 'cookie';
  /** The context asked for the routing cohort in each answer's metadata (`includeCohort: true`). */
  includeCohort: boolean;
  /** The evaluation context's attributes, which flag rules read by name (`country`, `plan`, …). */
  context: Readonly<Record<string, unknown>>;
}

// The top level is loose: fields a later protocol version adds must not break old Workers.
const BodySchema = z.looseObject({ context: z.nullish(z.unknown()) });

/**
 * A targeting key the splitter could have hashed: 1–256 visible ASCII characters, like the
 * identity header (a cookie id is a special case of it).
 */
const TargetingKeySchema = z
  .string()
  .check(
    z.regex(/^[\x21-\x7e]{0,256}$/, 'targetingKey must be at most 256 visible ASCII characters (no spaces)'),
  );

/**
 * The context attributes the Worker reads itself; every other attribute is there for flag rules,
 * which read primitive values by name (`country`, `email`, `plan`, `header.x-plan`, …).
 */
export const OfrepContextSchema = z.looseObject({
  targetingKey: z.nullish(TargetingKeySchema),
  includeCohort: z.optional(z.boolean()),
});

/** Where a visitor's own id lives in the request, from the config's stickiness settings. */
export type Stickiness = Pick<RolloutConfig['stickiness'], 'cookieName' | 'identityHeader'>;

/**
 * Parses an OFREP request body and finds whose flags to evaluate. An empty body is `{}`. Without
 * a `targetingKey` in the context, the request's own visitor is used exactly as the splitter
 * finds them (the identity header when configured and valid, else the `rollout_id` cookie), so a
 * browser on the app's own domain needs no id of its own. Never throws.
 *
 * @example
 * parseOfrepRequest('{"context":{"targetingKey":"abc12345"}}', new Headers(), { cookieName: 'rollout_id' });
 * // { ok: true, request: { targetingKey: 'abc12345', keySource: 'context', includeCohort: false, context: { targetingKey: 'abc12345' } } }
 */
export function parseOfrepRequest(
  bodyText: string,
  headers: Headers,
  stickiness: Stickiness,
): { ok: true; request: OfrepRequest } | { ok: false; error: OfrepRequestError } {
  let json: unknown = {};
  if (bodyText.trim() !== '') {
    try {
      json = JSON.parse(bodyText);
    } catch {
      return failure('PARSE_ERROR', 'the request body is not valid JSON');
    }
  }
  const body = BodySchema.safeParse(json);
  if (!body.success) return failure('PARSE_ERROR', 'the request body must be a JSON object');
  const context = OfrepContextSchema.safeParse(body.data.context ?? {});
  if (!context.success)
    return failure('INVALID_CONTEXT', `invalid context: ${describeIssues(context.error).join('; ')}`);
  const includeCohort = context.data.includeCohort === true;
  const fromContext = context.data.targetingKey;
  // An empty key is what SDKs send when the app set none: the visitor's own id applies.
  const attributes = context.data as Record<string, unknown>;
  if (fromContext)
    return {
      ok: true,
      request: { targetingKey: fromContext, keySource: 'context', includeCohort, context: attributes },
    };
  const own = visitorIdOf(headers, stickiness);
  if (!own)
    return failure(
      'TARGETING_KEY_MISSING',
      `no targetingKey in the context and no valid ${stickiness.cookieName} cookie${stickiness.identityHeader ? ` or ${stickiness.identityHeader} header` : ''} in the request`,
    );
  return { ok: true, request: { ...own, includeCohort, context: attributes } };
}

/**
 * The id the splitter hashes for this request, without issuing one: the identity header when
 * configured and valid, else a valid visitor cookie; undefined for a visitor the splitter has
 * never seen.
 */
export function visitorIdOf(
  headers: Headers,
  { cookieName, identityHeader }: Stickiness,
): Pick<OfrepRequest, 'targetingKey' | 'keySource'> | undefined {
  const identity = identityHeader ? headers.get(identityHeader) : null;
  if (isValidIdentityValue(identity)) return { targetingKey: identity, keySource: 'identity-header' };
  const cookieId = readCookie(headers.get('cookie'), cookieName);
  return isValidVisitorId(cookieId) ? { targetingKey: cookieId, keySource: 'cookie' } : undefined;
}

/**
 * Whether the request evaluates its own visitor: the id hashed is the one the splitter hashes for
 * this request (no context key, or a context key equal to the request's identity header or
 * cookie id). Only then does the request's QA override cookie apply: an override pins the browser
 * that opened the link, never whichever id that browser names in a context.
 *
 * @example
 * const headers = new Headers({ cookie: 'rollout_id=abc12345' });
 * evaluatesOwnVisitor({ targetingKey: 'abc12345', keySource: 'context', includeCohort: true }, headers, { cookieName: 'rollout_id' }); // true
 * evaluatesOwnVisitor({ targetingKey: 'someone-else', keySource: 'context', includeCohort: true }, headers, { cookieName: 'rollout_id' }); // false
 */
export function evaluatesOwnVisitor(
  request: Pick<OfrepRequest, 'targetingKey' | 'keySource'>,
  headers: Headers,
  stickiness: Stickiness,
): boolean {
  if (request.keySource !== 'context') return true;
  return visitorIdOf(headers, stickiness)?.targetingKey === request.targetingKey;
}

function failure(
  errorCode: OfrepRequestErrorCode,
  errorDetails: string,
): { ok: false; error: OfrepRequestError } {
  return { ok: false, error: { errorCode, errorDetails } };
}
