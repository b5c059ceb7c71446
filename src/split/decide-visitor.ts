import type { Cohort, RolloutState } from '../vocabulary';
import { base64UrlEncode } from '../encoding';
import type { ConfigSnapshot } from '../ports';
import { bucket, inPercent } from './bucket';
import { evaluateFlags, flagValues, type FlagPins, type FlagResult, type FlagValue } from './evaluate-flags';
import type { FlagContext } from './flag-conditions';

/**
 * Who a visitor is (a sticky cookie id, or an identity header) and what they get: a cohort,
 * decided here, and flag values (evaluate-flags.ts).
 */

/** The two deployments a visitor can be routed to. */
export type { Cohort } from '../vocabulary';

/** Why a visitor got its cohort (OpenFeature-style reasons). */
export type CohortReason = 'SPLIT' | 'KILLED' | 'ABORTED' | 'OVERRIDE' | 'NOT_LIVE';

/**
 * A QA override as the splitter applies it (a signed link's cookie): the cohort to pin, and the
 * flags pinned to named variants (see {@link FlagPins}).
 */
export interface QaOverride {
  cohort: Cohort;
  pins?: FlagPins;
}

/** The routing decision for one visitor. */
export interface CohortAssignment {
  cohort: Cohort;
  reason: CohortReason;
  /** The visitor's routing bucket, 0–9999. */
  bucket: number;
}

/** Inputs of {@link assignCohort}. */
export interface AssignCohortInput {
  visitorId: string;
  percent: number;
  salt: string;
  state: RolloutState;
  /** The kill switch's `canary` token. */
  killed: boolean;
  /** A QA override pinned by a signed link. */
  override?: Cohort;
}

/**
 * Routes a visitor: canary when `bucket(salt, id) < percent × 100`. Monotonic: raising the
 * percent only adds buckets, so no canary visitor ever falls back to stable while ramping up.
 * The kill switch and an aborted state beat everything, including a QA override; `idle` and
 * `finalized` rollouts send only QA overrides to the canary.
 *
 * @example
 * assignCohort({ visitorId: 'abc12345', percent: 10, salt: 's1', state: 'ramping', killed: false });
 * // { cohort: 'stable', reason: 'SPLIT', bucket: 6408 }
 */
export function assignCohort(input: AssignCohortInput): CohortAssignment {
  const visitorBucket = bucket(input.salt, input.visitorId);
  if (input.killed) return { cohort: 'stable', reason: 'KILLED', bucket: visitorBucket };
  if (input.state === 'aborted') return { cohort: 'stable', reason: 'ABORTED', bucket: visitorBucket };
  if (input.override) return { cohort: input.override, reason: 'OVERRIDE', bucket: visitorBucket };
  // `idle` and `finalized` have no canary by definition; a hand-edited config that gives them a
  // percent is not a live rollout (the guard does not watch it), so it sends nobody there.
  if (input.state === 'idle' || input.state === 'finalized')
    return { cohort: 'stable', reason: 'NOT_LIVE', bucket: visitorBucket };
  const cohort = inPercent(visitorBucket, input.percent) ? 'canary' : 'stable';
  return { cohort, reason: 'SPLIT', bucket: visitorBucket };
}

/**
 * Reads one cookie from a `Cookie` header. Returns the first occurrence, undefined when absent or
 * malformed. One pass with `indexOf` and no split: a header of any size the runtime accepts is
 * read in linear time and allocates only the value.
 *
 * @example
 * readCookie('a=1; rollout_id=abc12345', 'rollout_id'); // 'abc12345'
 */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  let start = 0;
  let eq = -1;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    // Each search resumes where the last one stopped, so parts without `=` cost no rescans.
    if (eq < start) eq = header.indexOf('=', start);
    if (eq < 0) return undefined;
    if (eq < end && header.slice(start, eq).trim() === name) return header.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return undefined;
}

/**
 * The `Set-Cookie` value that stores a visitor id.
 *
 * @example
 * visitorCookie('rollout_id', 'abc12345', 2592000);
 * // 'rollout_id=abc12345; Path=/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax'
 */
export function visitorCookie(name: string, id: string, maxAgeSeconds: number): string {
  return `${name}=${id}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Lax`;
}

const VISITOR_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/** Whether a cookie value is an acceptable visitor id: 8–64 chars of `[A-Za-z0-9_-]`. */
export function isValidVisitorId(value: string | undefined): value is string {
  return value !== undefined && VISITOR_ID_PATTERN.test(value);
}

/** A fresh random visitor id: 16 random bytes as base64url (22 chars, 128 bits). */
export function newVisitorId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return base64UrlEncode(bytes);
}

const IDENTITY_HEADER_PATTERN = /^[\x21-\x7e]{1,256}$/;

/**
 * Whether a stickiness header value (e.g. a user id from the app's auth) may decide the cohort:
 * 1–256 visible ASCII chars. Anything else is ignored and the cookie decides.
 */
export function isValidIdentityValue(value: string | null): value is string {
  return value !== null && IDENTITY_HEADER_PATTERN.test(value);
}

/** Everything the splitter decided about one visitor. */
export interface VisitorDecision {
  /** The id that was hashed (the identity header's value, or the cookie's id). */
  routingId: string;
  /** A `Set-Cookie` for a freshly issued visitor id, when the cookie was absent or invalid. */
  setCookie?: string;
  assignment: CohortAssignment;
  flags: Record<string, FlagResult>;
  flagValues: Record<string, FlagValue>;
}

/** What the edge knows about a request, besides the id: all optional but the headers. */
export interface RequestFacts {
  headers: Headers;
  method?: string;
  /** The public path, without the query. */
  path?: string;
  /** `request.cf`: the country, continent and colo Cloudflare saw. */
  cf?: object | undefined;
  /**
   * The email of a Cloudflare Access JWT verified against the app's own audience. Left out when
   * no verified token is there: an `email` header can be forged, so none is ever read.
   */
  email?: string;
}

/**
 * The attributes of a proxied request: `id`, `path`, `method`, `country`, `continent`, `colo`,
 * `email`, `header.<name>` and `cookie.<name>`, each read only when a condition asks for it.
 *
 * @example
 * requestContext('abc12345', { headers: new Headers({ 'x-plan': 'pro' }), path: '/app' }).attribute('header.x-plan'); // 'pro'
 */
export function requestContext(id: string, facts: RequestFacts): FlagContext {
  return {
    id,
    attribute(name) {
      switch (name) {
        case 'id':
          return id;
        case 'path':
          return facts.path;
        case 'method':
          return facts.method;
        case 'country':
        case 'continent':
        case 'colo': {
          const value = (facts.cf as Readonly<Record<string, unknown>> | undefined)?.[name];
          return typeof value === 'string' ? value : undefined;
        }
        case 'email':
          return facts.email;
      }
      if (name.startsWith('header.')) return facts.headers.get(name.slice(7)) ?? undefined;
      if (name.startsWith('cookie.')) return readCookie(facts.headers.get('cookie'), name.slice(7));
      return undefined;
    },
  };
}

/**
 * Decides a visitor's cohort and flags from the request (its headers, and the facts the edge
 * passes: method, path, `request.cf`, a verified Access email) and the current config.
 * A missing or hostile cookie gets a fresh id; an identity header, when configured and valid,
 * takes precedence so a signed-in user keeps the same cohort on every device. A QA override
 * (a cohort, or a cohort with flag pins) pins what it names; the kill switch still wins.
 */
export function decideVisitor(
  headers: Headers,
  snapshot: ConfigSnapshot,
  override?: Cohort | QaOverride,
  facts: Omit<RequestFacts, 'headers'> = {},
): VisitorDecision {
  const qa = typeof override === 'string' ? { cohort: override } : override;
  const { config, kill } = snapshot;
  const { cookieName, maxAgeSeconds, identityHeader } = config.stickiness;
  let cookieId = readCookie(headers.get('cookie'), cookieName);
  let setCookie: string | undefined;
  if (!isValidVisitorId(cookieId)) {
    cookieId = newVisitorId();
    setCookie = visitorCookie(cookieName, cookieId, maxAgeSeconds);
  }
  const identity = identityHeader ? headers.get(identityHeader) : null;
  const routingId = isValidIdentityValue(identity) ? identity : cookieId;
  const assignment = assignCohort({
    visitorId: routingId,
    percent: config.rollout.percent,
    salt: config.rollout.salt,
    state: config.rollout.state,
    killed: kill.canary,
    override: qa?.cohort,
  });
  const flags = evaluateFlags(
    config.flags,
    requestContext(routingId, { ...facts, headers }),
    kill,
    config.segments,
    qa?.pins,
  );
  return { routingId, setCookie, assignment, flags, flagValues: flagValues(flags) };
}
