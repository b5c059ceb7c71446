/**
 * `npm run bench:eval`: cohort + flag evaluation against the GrowthBook SDK, on the same four
 * flags (and the routing split) over the same visitor ids. Prints ops/s for both, how often they
 * agree (they share the hash, so they should agree on every id), the hash-only limit (the two FNV
 * passes per decision and nothing else) with our share of it, and the ratio to GrowthBook.
 * The three are measured in alternating rounds, so that a slow phase of the machine hits all.
 */
import { GrowthBookClient } from '@growthbook/growthbook';
import { fnv1a32, fnv1a32Decimal } from '../../src/split/bucket';
import { assignCohort } from '../../src/split/decide-visitor';
import { evaluateFlags } from '../../src/split/evaluate-flags';
import { NO_KILL, type FlagConfig } from '../../src/config/config-schema';

const IDS = Array.from({ length: 20_000 }, (_, i) => `visitor-${String(i).padStart(8, '0')}`);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** `BENCH_FLAGS=50 npm run bench:eval` measures a launch with fifty flags instead of the four. */
const FLAG_COUNT = Number(process.env.BENCH_FLAGS ?? 4);
if (!Number.isInteger(FLAG_COUNT) || FLAG_COUNT < 1 || FLAG_COUNT > 200)
  throw new Error('BENCH_FLAGS must be a whole number of flags from 1 to 200');
const PERCENTS: Record<string, number> =
  FLAG_COUNT === 4
    ? { fileStorage: 50, templates: 25, emailDelivery: 10, analytics: 100 }
    : Object.fromEntries(
        Array.from({ length: FLAG_COUNT }, (_, i) => [
          `flag${String(i).padStart(3, '0')}`,
          [50, 25, 10, 100, 75][i % 5]!,
        ]),
      );
const ROUTING = { salt: 'launch-1', percent: 10 };

const flags: Record<string, FlagConfig> = Object.fromEntries(
  Object.entries(PERCENTS).map(([name, percent]) => [name, { enabled: true, percent, default: false }]),
);

const rollout = (seed: string, percent: number) => ({
  defaultValue: false,
  rules: [{ force: true, coverage: percent / 100, hashAttribute: 'id', seed, hashVersion: 2 }],
});
const growthbook = new GrowthBookClient().initSync({
  payload: {
    features: {
      __routing: rollout(ROUTING.salt, ROUTING.percent),
      ...Object.fromEntries(
        Object.entries(PERCENTS).map(([name, percent]) => [name, rollout(name, percent)]),
      ),
    },
  },
});

const FLAG_NAMES = Object.keys(PERCENTS);

/** Our evaluation, as the splitter runs it: the cohort and every flag's result. */
function ours(id: string): number {
  const canary =
    assignCohort({
      visitorId: id,
      percent: ROUTING.percent,
      salt: ROUTING.salt,
      state: 'ramping',
      killed: false,
    }).cohort === 'canary';
  const results = evaluateFlags(flags, id, NO_KILL);
  // A fingerprint of the answers (a bit mask would overflow past 31 flags).
  let print = canary ? 1 : 0;
  for (let i = 0; i < FLAG_NAMES.length; i++)
    print = (print * 31 + (results[FLAG_NAMES[i]!]!.value ? 1 : 0)) | 0;
  return print;
}

/** GrowthBook's server-side client evaluating the same five rollouts for one user. */
function theirs(id: string): number {
  const user = { attributes: { id } };
  let print = growthbook.isOn('__routing', user) ? 1 : 0;
  for (let i = 0; i < FLAG_NAMES.length; i++)
    print = (print * 31 + (growthbook.isOn(FLAG_NAMES[i]!, user) ? 1 : 0)) | 0;
  return print;
}

const HASH_SEEDS = [ROUTING.salt, ...FLAG_NAMES].map((seed) => fnv1a32(seed));
const HASH_THRESHOLDS = [ROUTING.percent, ...Object.values(PERCENTS)].map((p) => p * 100);

/**
 * The limit: the same bucket decisions as bare hashing (seed hashes and thresholds ready, no
 * kill switch, no result objects). What evaluation costs above this is bookkeeping.
 */
function hashOnly(id: string): number {
  let print = 0;
  for (let i = 0; i < HASH_SEEDS.length; i++)
    print =
      (print * 31 + (fnv1a32Decimal(fnv1a32(id, HASH_SEEDS[i]!)) % 10_000 < HASH_THRESHOLDS[i]! ? 1 : 0)) | 0;
  return print;
}

/** One pass over every id: evaluations per second. */
function pass(fn: (id: string) => number): number {
  const started = performance.now();
  let sink = 0;
  for (const id of IDS) sink += fn(id) + 1;
  const seconds = (performance.now() - started) / 1000;
  if (sink === 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return IDS.length / seconds;
}

/** Best pass of each function over ROUNDS alternating rounds. */
function measure(fns: readonly ((id: string) => number)[]): number[] {
  const best = fns.map(() => 0);
  for (let round = 0; round < ROUNDS; round++)
    for (let k = 0; k < fns.length; k++) {
      const i = (round + k) % fns.length;
      best[i] = Math.max(best[i]!, pass(fns[i]!));
    }
  return best;
}

let agree = 0;
for (const id of IDS) if (ours(id) === theirs(id)) agree++;
measure([ours, theirs, hashOnly]); // warm-up
const [oursOps, theirsOps, hashOps] = measure([ours, theirs, hashOnly]) as [number, number, number];
console.log(
  `evaluation of routing + ${FLAG_COUNT} flags per visitor, ${IDS.length} ids, best of ${ROUNDS} alternating rounds, node ${process.version}`,
);
console.log(`edge-rollout  ${oursOps.toFixed(0).padStart(10)} evaluations/s`);
console.log(`GrowthBook    ${theirsOps.toFixed(0).padStart(10)} evaluations/s`);
console.log(
  `hash only     ${hashOps.toFixed(0).padStart(10)} evaluations/s (the limit: ${(hashOps / theirsOps).toFixed(1)}× GrowthBook; edge-rollout reaches ${((100 * oursOps) / hashOps).toFixed(0)} % of it)`,
);
// GrowthBook includes the boundary bucket (hash ≤ coverage); edge-rollout's contract is strict
// (bucket < percent × 100), so ids sitting exactly on a boundary bucket may differ.
console.log(
  `agreement: ${agree}/${IDS.length} ids give identical cohort and flags (the rest sit on a boundary bucket)`,
);
console.log(`edge-rollout/GrowthBook evaluation ratio: ${(oursOps / theirsOps).toFixed(1)}`);
