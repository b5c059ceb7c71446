import { compareHeads, type Head, type HeadMessage } from '../config/committed-version';

/**
 * The head refresh's settings and decisions: pure functions of times and versions, shared by
 * the edge ({@link HeadRefresher}) and `npm run simulate`, which runs these very functions at
 * internet scale instead of re-implementing them.
 *
 * How a location learns a write (docs/KILL-SWITCH.md, "How fast it acts"):
 * 1. At most every {@link HEAD_REFRESH}.intervalMs, a request's isolate looks for the committed
 *    head (epoch, version, kill) in the location's cache (the Cache API is per data center); an
 *    entry younger than the interval is used, otherwise the isolate asks the control plane and
 *    stores the answer there for the location's other isolates.
 * 2. A head newer than the isolate's version brings the committed value: from the control plane,
 *    else from KV. Versions never go backwards.
 * 3. All of it runs after the response (`waitUntil`), except for an isolate that has not checked
 *    for longer than `freshnessBoundMs` (new or idle): its request waits at most `coldWaitMs`.
 */

/** The production settings of the head refresh (the simulation prints them). */
export const HEAD_REFRESH = Object.freeze({
  /** How often an isolate checks the head, and how long a location's cached head counts. */
  intervalMs: 2_000,
  /** An isolate whose last check is older than this (new or idle) lets one request wait. */
  freshnessBoundMs: 5_000,
  /** The most that request waits for a fresh head; after it, it is served what the isolate has. */
  coldWaitMs: 50,
  /** A head request slower than this counts as failed (the control plane is slow or down). */
  headTimeoutMs: 1_000,
  /** The same for fetching a committed value. */
  configTimeoutMs: 2_000,
});

/** The settings' shape, so tests and the simulation can vary them. */
export type HeadRefreshSettings = { readonly [K in keyof typeof HEAD_REFRESH]: number };

/** A head as a location's cache holds it: the message and when it was fetched from the control plane. */
export interface CachedHead {
  head: HeadMessage;
  fetchedAt: number;
}

/**
 * Whether an isolate starts a head check now: never checked, or the last one started at least
 * one interval ago. A check that failed counts as a check, so a control plane that is down is
 * asked once per interval per isolate, not once per request.
 *
 * @example
 * headCheckDue(10_000, 9_000, HEAD_REFRESH); // false: checked 1 s ago
 */
export function headCheckDue(
  now: number,
  lastCheckAt: number | undefined,
  settings: HeadRefreshSettings,
): boolean {
  return lastCheckAt === undefined || now - lastCheckAt >= settings.intervalMs;
}

/**
 * How long the request that starts a check may wait for it: `coldWaitMs` for a new or idle
 * isolate (no check within `freshnessBoundMs`), else 0 (stale-while-revalidate).
 *
 * @example
 * waitForHeadMs(10_000, undefined, HEAD_REFRESH); // 50: a new isolate
 * waitForHeadMs(10_000, 8_000, HEAD_REFRESH); // 0
 */
export function waitForHeadMs(
  now: number,
  lastCheckAt: number | undefined,
  settings: HeadRefreshSettings,
): number {
  return lastCheckAt === undefined || now - lastCheckAt > settings.freshnessBoundMs ? settings.coldWaitMs : 0;
}

/**
 * Whether a location's cached head may stand in for asking the control plane: younger than one
 * interval (an entry from the future, a skewed clock, does not count).
 */
export function cachedHeadUsable(
  entry: CachedHead | undefined,
  now: number,
  settings: HeadRefreshSettings,
): boolean {
  return entry !== undefined && entry.fetchedAt <= now && now - entry.fetchedAt < settings.intervalMs;
}

/**
 * Whether a head is newer than what the isolate serves, so its committed value must be fetched.
 * Version 0 is the control plane's initial config, built from the same vars as the edge's safe
 * default: an isolate with no version yet keeps its safe default for it.
 */
export function headIsNewer(head: Head, serving: Head | undefined): boolean {
  return serving === undefined ? head.version > 0 : compareHeads(head, serving) > 0;
}
