import {
  parseKillSwitch,
  unionKillSwitch,
  type KillSwitch,
  type RolloutConfig,
} from '../config/config-schema';
import { isTypedFlag, type BooleanFlag } from '../config/flag-schema';
import { BUCKETS, fnv1a32, seededBucket } from '../split/bucket';

/**
 * The blast radius of a change: which visitors it moves, computed from the pure bucketing. Where
 * the buckets before and after are the same function of the id (same salt, same flag seed), the
 * share is counted over all 10,000 buckets and is exact; where they are not (a new salt or seed),
 * it is measured over a fixed, seeded sample of ids and given with its standard error and 95 %
 * interval.
 *
 * The work is bounded before it starts. Each estimated subject (the cohort, or a flag whose seed
 * changes) costs two bucket hashes per sample id, so a config of 200 flags whose seeds all change
 * with a new salt cost 16 million hashes at the full sample (about 2.6 s of CPU in Node, 4–8 s in
 * a Worker, during which the isolate serves nobody else). The budget is counted in hashes, not
 * milliseconds: a Worker's clock does not move while code runs, and a count gives the same answer
 * on every machine. Within {@link PREVIEW_HASH_BUDGET} the sample shrinks, for every subject alike,
 * down to {@link PREVIEW_MIN_SAMPLE} ids (a standard error of at most 1.12 points); a change that
 * would need less is refused with {@link PreviewTooLargeError}, and nothing is estimated.
 */

/** One side of a change: the config and the kill switch set through the API. */
export interface PreviewSide {
  config: RolloutConfig;
  /** The API kill switch text (`canary flag:x`), or null when none. */
  kill: string | null;
}

/** Requests per cohort over a recent window, from Analytics Engine (sampled, so estimated). */
export interface RecentTraffic {
  windowMinutes: number;
  stable: number;
  canary: number;
}

/** Options of {@link previewChange}. */
export interface PreviewOptions {
  /** The hand-set kill switch (KV `kill`); the splitter obeys both. */
  handKill?: string | null;
  /** Requests per cohort seen lately, to turn shares into requests; absent: shares only. */
  traffic?: RecentTraffic;
  /** The most sample ids to use for estimated figures (default {@link PREVIEW_SAMPLE_SIZE}). */
  sampleSize?: number;
  /** Bucket hashes the estimates may cost (default {@link PREVIEW_HASH_BUDGET}). */
  hashBudget?: number;
}

/** Who moves, from where to where, and how sure the figure is. */
export interface Move {
  /** `cohort` for the routing split, else the flag's name. */
  subject: string;
  from: string;
  to: string;
  /** Share of all visitors (0–1). */
  share: number;
  /** True when counted over every bucket; false when measured on the sample. */
  exact: boolean;
  /** Standard error of `share` when estimated (0 when exact). */
  error: number;
  /** Half-width of the 95 % interval of `share` (1.96 × `error`; 0 when exact). */
  margin95: number;
  /** Requests in the traffic window that came from these visitors; always an estimate. */
  requests?: number;
}

/** What a change moves. */
export interface Preview {
  /** Whether any visitor gets another cohort or another flag value. */
  movesVisitors: boolean;
  /** The share of visitors in the canary before and after (exact). */
  canaryShare: { before: number; after: number };
  /** Cohort moves first, then flag moves in flag-name order; only non-empty ones. */
  moves: Move[];
  /**
   * How the estimated figures were measured: `size` ids from `seed`. `size` is below the full
   * sample ({@link PREVIEW_SAMPLE_SIZE}) when the change estimates so many subjects that the full
   * sample would exceed {@link PREVIEW_HASH_BUDGET}; `estimated` is how many subjects were.
   */
  sample: { size: number; seed: string; estimated: number };
  /** The traffic the request figures are based on, when known. */
  traffic?: RecentTraffic;
  /** One line per move (and per caveat), for people. */
  summary: string[];
}

/** Sample ids used for estimated figures: enough for a standard error under 0.25 points. */
export const PREVIEW_SAMPLE_SIZE = 40_000;

/** The sample's seed: fixed, so the same change always previews the same. */
export const PREVIEW_SAMPLE_SEED = 'edge-rollout-preview-v1';

/**
 * Bucket hashes one preview may compute for its estimates: about 0.17 s of CPU in Node. Exact
 * counts (10,000 buckets, no hashing) are not charged.
 */
export const PREVIEW_HASH_BUDGET = 1_000_000;

/** The smallest sample a preview estimates on: a standard error of at most 1.12 points. */
export const PREVIEW_MIN_SAMPLE = 2_000;

/**
 * A change whose estimates would exceed the preview's budget even at the smallest sample: more
 * than budget / (2 × {@link PREVIEW_MIN_SAMPLE}) subjects with a new seed, 250 at the default
 * budget. A config holds at most 200 flags, so today every valid change fits; this is the bound
 * that stays when either limit moves. The route answers it with `422`; the caller previews fewer
 * changes at a time.
 */
export class PreviewTooLargeError extends Error {
  readonly code = 'preview-too-large';
  constructor(
    /** Subjects (the cohort, flags) whose figures would need estimating. */
    readonly estimated: number,
    /** The most one preview can estimate. */
    readonly limit: number,
  ) {
    super(
      `too large to preview: ${estimated} subjects change their seed or salt and need estimating, at most ${limit} fit one preview's budget; preview fewer changes at a time`,
    );
    this.name = 'PreviewTooLargeError';
  }
}

/**
 * Describes what going from `before` to `after` moves: the routing cohort (percent, salt, state,
 * kill switch) and every flag (enabled, percent, seed, default, kill switch).
 *
 * - Same salt, percent p1 → p2: exactly |p2 − p1| % of visitors move, all in one direction.
 * - A new salt at percent p: about 2p(1 − p) of visitors change cohort, estimated on the sample.
 * - Abort, promote, finalize, kill: everyone in the affected cohort, exactly.
 * - A flag: the share whose value flips, by direction, exact unless its seed changed.
 *
 * @example
 * previewChange({ config: at10, kill: null }, { config: at25, kill: null }).summary;
 * // ['15 % of visitors move from stable to canary (exact).']
 */
export function previewChange(
  before: PreviewSide,
  after: PreviewSide,
  options: PreviewOptions = {},
): Preview {
  const hand = parseKillSwitch(options.handKill ?? null);
  const killBefore = unionKillSwitch(parseKillSwitch(before.kill), hand);
  const killAfter = unionKillSwitch(parseKillSwitch(after.kill), hand);
  const routeBefore = routing(before.config, killBefore);
  const routeAfter = routing(after.config, killAfter);

  // Every subject's rule pair first, so the sample can be sized to the budget before any hashing.
  const subjects: Subject[] = [
    { name: 'cohort', values: ['stable', 'canary'], before: routeBefore, after: routeAfter },
  ];
  const names = [
    ...new Set([...Object.keys(before.config.flags), ...Object.keys(after.config.flags)]),
  ].sort();
  // Typed flags (variants, rules) move visitors between variants; this preview counts on/off only.
  const typed: string[] = [];
  for (const name of names) {
    const [was, will] = [before.config.flags[name], after.config.flags[name]];
    if ((was && isTypedFlag(was)) || (will && isTypedFlag(will))) {
      typed.push(name);
      continue;
    }
    subjects.push({
      name,
      values: ['off', 'on'],
      before: flagRule(name, was, killBefore),
      after: flagRule(name, will, killAfter),
    });
  }
  const estimated = subjects.filter((subject) => !isExact(subject.before, subject.after)).length;
  const sampleSize = sampleSizeFor(estimated, options);
  const moves = subjects.flatMap((subject) => compare(subject, sampleSize));

  const canaryShare = { before: routeBefore.share, after: routeAfter.share };
  if (options.traffic)
    for (const move of moves) move.requests = requestsOf(move, canaryShare, options.traffic);
  const summary = moves.map((move) => describeMove(move, sampleSize));
  if (moves.length === 0) summary.push('No visitor changes cohort or flag value.');
  const fullSample = options.sampleSize ?? PREVIEW_SAMPLE_SIZE;
  if (sampleSize < fullSample)
    summary.push(
      `${estimated} figures are estimated, so each used ${formatCount(sampleSize)} sample ids instead of ${formatCount(fullSample)} to keep the preview within its budget: the errors are wider.`,
    );
  if (typed.length)
    summary.push(`unknown: variant moves of typed flags are not previewed yet (${typed.join(', ')})`);
  if (options.traffic && moves.some((move) => move.requests !== undefined))
    summary.push(
      `Requests are estimated from the last ${options.traffic.windowMinutes} min of traffic (${formatCount(options.traffic.stable)} stable, ${formatCount(options.traffic.canary)} canary), assuming requests spread evenly over visitors.`,
    );
  const originNote = originChange(before.config, after.config);
  if (originNote) summary.push(originNote);
  return {
    movesVisitors: moves.length > 0,
    canaryShare,
    moves,
    sample: { size: sampleSize, seed: PREVIEW_SAMPLE_SEED, estimated },
    ...(options.traffic ? { traffic: options.traffic } : {}),
    summary,
  };
}

/**
 * The sample size that fits `estimated` subjects into the hash budget (two hashes per id per
 * subject), at most the full sample; throws {@link PreviewTooLargeError} below the minimum.
 */
function sampleSizeFor(estimated: number, options: PreviewOptions): number {
  const full = options.sampleSize ?? PREVIEW_SAMPLE_SIZE;
  if (estimated === 0) return full;
  const budget = options.hashBudget ?? PREVIEW_HASH_BUDGET;
  const affordable = Math.floor(budget / (2 * estimated));
  if (affordable >= full) return full;
  if (affordable < Math.min(PREVIEW_MIN_SAMPLE, full))
    throw new PreviewTooLargeError(estimated, Math.floor(budget / (2 * PREVIEW_MIN_SAMPLE)));
  return affordable;
}

/** One thing a visitor has (the cohort, a flag), with its two values and its rules. */
interface Subject {
  name: string;
  /** The values for `false` and `true`, e.g. `['stable', 'canary']`. */
  values: [string, string];
  before: BucketRule;
  after: BucketRule;
}

/**
 * A yes/no rule over visitors, as the splitter applies it: `true` below `threshold` buckets of
 * the seed; everyone else gets `otherwise`. A rule with threshold 0 gives everyone `otherwise`.
 */
interface BucketRule {
  seed: string;
  /** Buckets 0 … threshold − 1 get `true`. */
  threshold: number;
  otherwise: boolean;
  /** Share of visitors who get `true`. */
  share: number;
}

function rule(seed: string, threshold: number, otherwise: boolean): BucketRule {
  const share = otherwise ? 1 : threshold / BUCKETS;
  return { seed, threshold: otherwise ? BUCKETS : threshold, otherwise, share };
}

// Canary (true) when the rollout is live, not killed, and the bucket is below percent × 100.
function routing(config: RolloutConfig, kill: KillSwitch): BucketRule {
  const { state, percent, salt } = config.rollout;
  const live = state === 'ramping' || state === 'paused' || state === 'promoted';
  return rule(salt, live && !kill.canary ? Math.round(percent * 100) : 0, false);
}

// On (true) as evaluate-flags decides it; a flag missing from the config is off.
function flagRule(name: string, flag: BooleanFlag | undefined, kill: KillSwitch): BucketRule {
  const seed = flag?.seed ?? name;
  if (!flag || kill.allFlags || kill.flags.has(name)) return rule(seed, 0, false);
  if (!flag.enabled) return rule(seed, 0, flag.default);
  return rule(seed, Math.min(BUCKETS, Math.round(flag.percent * 100)), flag.default);
}

// With one seed (or a rule that ignores the bucket), each bucket keeps its visitors: count them.
function isExact(before: BucketRule, after: BucketRule): boolean {
  const constant = (r: BucketRule) => r.threshold === 0 || r.threshold === BUCKETS;
  return before.seed === after.seed || constant(before) || constant(after);
}

function compare({ name, values: [no, yes], before, after }: Subject, sampleSize: number): Move[] {
  const exact = isExact(before, after);
  const counts = exact ? countBuckets(before, after) : countSample(before, after, sampleSize);
  const total = exact ? BUCKETS : sampleSize;
  const moves: Move[] = [];
  for (const [from, to, count] of [
    [no, yes, counts.up],
    [yes, no, counts.down],
  ] as const) {
    if (count === 0) continue;
    const share = count / total;
    const error = exact ? 0 : Math.sqrt((share * (1 - share)) / total);
    moves.push({ subject: name, from, to, share, exact, error, margin95: 1.96 * error });
  }
  return moves;
}

function value(r: BucketRule, bucketValue: number): boolean {
  return bucketValue < r.threshold || r.otherwise;
}

function countBuckets(before: BucketRule, after: BucketRule): { up: number; down: number } {
  let up = 0;
  let down = 0;
  for (let b = 0; b < BUCKETS; b++) {
    const was = value(before, b);
    const is = value(after, b);
    if (!was && is) up++;
    else if (was && !is) down++;
  }
  return { up, down };
}

function countSample(before: BucketRule, after: BucketRule, size: number): { up: number; down: number } {
  const ids = sampleIds(size);
  const seedBefore = fnv1a32(before.seed);
  const seedAfter = fnv1a32(after.seed);
  let up = 0;
  let down = 0;
  for (const id of ids) {
    const was = value(before, seededBucket(seedBefore, id));
    const is = value(after, seededBucket(seedAfter, id));
    if (!was && is) up++;
    else if (was && !is) down++;
  }
  return { up, down };
}

let cachedIds: string[] = [];
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The fixed sample: ids shaped like real visitor ids (22 base64url chars), drawn from a seeded
 * generator, so every preview of the same change gives the same figures. Built once per isolate.
 */
export function sampleIds(size: number = PREVIEW_SAMPLE_SIZE): readonly string[] {
  if (cachedIds.length >= size) return cachedIds.slice(0, size);
  const ids: string[] = [];
  let state = fnv1a32(PREVIEW_SAMPLE_SEED);
  // xorshift32: tiny, seeded and good enough to spread ids; the hash does the real mixing.
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  for (let i = 0; i < size; i++) {
    let id = '';
    for (let c = 0; c < 22; c++) id += ID_ALPHABET[next() & 63];
    ids.push(id);
  }
  cachedIds = ids;
  return ids;
}

// Visitors leaving a cohort carried that cohort's requests, pro rata.
function requestsOf(move: Move, canaryShare: { before: number }, traffic: RecentTraffic): number | undefined {
  if (move.subject !== 'cohort') {
    const all = traffic.stable + traffic.canary;
    return Math.round(all * move.share);
  }
  const fromShare = move.from === 'canary' ? canaryShare.before : 1 - canaryShare.before;
  const fromRequests = move.from === 'canary' ? traffic.canary : traffic.stable;
  if (fromShare <= 0) return 0;
  return Math.round(fromRequests * Math.min(1, move.share / fromShare));
}

function describeMove(move: Move, sampleSize: number): string {
  const what =
    move.subject === 'cohort'
      ? `move from ${move.from} to ${move.to}`
      : `get ${move.subject} ${move.to} instead of ${move.from}`;
  const share = move.exact
    ? `${formatShare(move.share)} of visitors ${what} (exact)`
    : `About ${formatShare(move.share)} ± ${formatShare(move.margin95)} of visitors ${what} (estimated on ${formatCount(sampleSize)} sample ids; 95 % interval, standard error ${formatShare(move.error)})`;
  const requests =
    move.requests === undefined
      ? ''
      : `; about ${formatCount(move.requests)} requests in the window came from them`;
  return `${share.charAt(0).toUpperCase()}${share.slice(1)}${requests}.`;
}

function originChange(before: RolloutConfig, after: RolloutConfig): string | undefined {
  const a = before.origins;
  const b = after.origins;
  if (JSON.stringify(a ?? null) === JSON.stringify(b ?? null)) return undefined;
  if (!b) return 'The origins go back to the Worker vars (STABLE_ORIGIN, CANARY_ORIGIN).';
  return `The origins change: stable ${b.stable}, canary ${b.canary}.`;
}

/** A share as a percent with up to two decimals: 0.1 → `10 %`, 0.12345 → `12.35 %`. */
export function formatShare(share: number): string {
  return `${Number((share * 100).toFixed(2))} %`;
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
