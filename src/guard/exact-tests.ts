/**
 * The statistics behind the guard's verdicts, pure and platform-free: the one-sided exact
 * binomial test every metric row uses, the sample a row needs before "within the threshold"
 * means something, and the tails the sample-ratio test reads. No dependency: a handful of
 * textbook functions (Lanczos' log-gamma, the regularized incomplete beta by Lentz's continued
 * fraction) are cheaper than a statistics library in a Worker bundle.
 *
 * Why a test and not a point estimate: the guard looks every minute, so a rule such as "above
 * 1 % errors" applied to 100 requests fires on the second unlucky error. A test asks instead how
 * likely the count would be if the canary were exactly at its threshold, and breaches only when
 * that is below {@link GUARD_ALPHA}.
 */

/**
 * The false-breach probability the guard accepts per metric, per window, per look (one run).
 * With two windows a run and 60 runs an hour, and windows that overlap heavily, this keeps a
 * healthy canary's false aborts near or under 1 % of hours (measured by `npm run guard:simulate`).
 */
export const GUARD_ALPHA = 0.001;

/** The power a row's minimum sample is sized for. */
export const GUARD_POWER = 0.9;

/**
 * The breach a minimum sample is sized to catch: the bad share at this many times its allowed
 * share (errors 1 % → 2 %, slow requests 5 % → 10 %, failed emails 10 % → 20 %).
 */
export const DETECTABLE_FACTOR = 2;

/**
 * One-sided exact binomial test of "the bad share is at most `allowed`": the probability of
 * `bad` or more bad outcomes in `total` trials if the true share were exactly `allowed`.
 *
 * @example
 * binomialPValue(2, 50, 0.01); // ≈ 0.089: two errors in 50 is no evidence against 1 %
 * binomialPValue(8, 100, 0.01); // ≈ 8.2e-6: eight in 100 is
 */
export function binomialPValue(bad: number, total: number, allowed: number): number {
  const k = Math.round(bad);
  const n = Math.round(total);
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (allowed <= 0) return 0;
  if (allowed >= 1) return 1;
  // P(X ≥ k) for X ~ Binomial(n, p) is I_p(k, n − k + 1).
  return regularizedBeta(allowed, k, n - k + 1);
}

/**
 * The smallest sample at which the exact test (at `alpha`) catches a bad share of
 * `DETECTABLE_FACTOR × allowed` with probability {@link GUARD_POWER}. Below it, "no breach"
 * is not yet evidence of health. Found by bisection on the sample size, so the answer is the
 * first size that reaches the power (the exact test's power is saw-toothed in n; this is
 * "about", as any sample-size answer is).
 *
 * @example
 * minimumSample(0.01); // 2630: 1 % vs 2 % errors
 * minimumSample(0.1); // 232: 90 % vs 80 % email delivery
 */
export function minimumSample(allowed: number, alpha = GUARD_ALPHA, power = GUARD_POWER): number {
  if (!(allowed > 0)) return 1; // nothing bad is allowed: the first bad outcome breaches
  if (allowed >= 1) return 1;
  // Two significant digits are plenty for a sample size, and keep the cache small (the error
  // threshold follows stable's rate, which changes every run).
  const rounded = Number(allowed.toPrecision(2));
  const key = `${rounded}:${alpha}:${power}`;
  const known = SAMPLE_CACHE.get(key);
  if (known !== undefined) return known;
  const goal = Math.min(rounded * DETECTABLE_FACTOR, (1 + rounded) / 2);
  const enough = (n: number) => binomialPValue(criticalCount(n, rounded, alpha), n, goal) >= power;
  let high = 16;
  while (!enough(high) && high < 1e9) high *= 2;
  let low = high / 2;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (enough(mid)) high = mid;
    else low = mid;
  }
  if (SAMPLE_CACHE.size > 1000) SAMPLE_CACHE.clear();
  SAMPLE_CACHE.set(key, high);
  return high;
}

const SAMPLE_CACHE = new Map<string, number>();

/** The smallest bad count in `n` trials that the exact test calls a breach of `allowed`. */
export function criticalCount(n: number, allowed: number, alpha = GUARD_ALPHA): number {
  // Start near the normal approximation's answer, then step to the exact one.
  let k = Math.max(1, Math.floor(n * allowed + 3 * Math.sqrt(n * allowed * (1 - allowed))));
  while (k > 1 && binomialPValue(k - 1, n, allowed) < alpha) k--;
  while (k <= n && binomialPValue(k, n, allowed) >= alpha) k++;
  return k;
}

/**
 * The upper tail of Snedecor's F distribution with (1, d) degrees of freedom: the p-value of a
 * chi-squared statistic divided by a dispersion estimated on d degrees of freedom.
 *
 * @example
 * fOneTail(10.83, 1e6); // ≈ 0.001, the chi-squared(1) tail
 */
export function fOneTail(x: number, d: number): number {
  if (!(x > 0)) return 1;
  return regularizedBeta(d / (d + x), d / 2, 0.5);
}

/**
 * The regularized incomplete beta function I_x(a, b), by its continued fraction (Numerical
 * Recipes' betai/betacf): accurate to about 1e-12 relative, also far in the tails.
 */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The fraction converges fast on this side of the mean; use the symmetry on the other.
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-13) break;
  }
  return h;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7): about 15 significant digits. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The result of judging one share (errors, slow requests, failed emails) on one or more windows. */
export interface ShareJudgement {
  /** `fail`: the test rejects "within the threshold"; `underpowered`: it does not, on too few samples. */
  class: 'pass' | 'fail' | 'underpowered' | 'nodata';
  /** The smallest p-value over the windows (1 when no window had an excess). */
  pValue: number;
  /** The window that decided (the failing one, else the largest). */
  window: number;
  /** The samples the largest window still needs before a pass is evidence. */
  needs: number;
  minimum: number;
}

/**
 * Judges a bad share against `allowed` on each window (e.g. the last 5 minutes and the whole
 * step): a breach when the exact test rejects on any of them; otherwise `underpowered` while
 * the largest window has fewer than the minimum sample (`max(floor, minimumSample(allowed))`),
 * `nodata` with no samples at all, else `pass`.
 *
 * @example
 * judgeShare([{ bad: 8, total: 100, allowed: 0.01 }], 50).class; // 'fail' (p 8.2e-6)
 * judgeShare([{ bad: 2, total: 50, allowed: 0.01 }], 50); // { class: 'underpowered', needs: 2580, … }
 */
export function judgeShare(
  windows: readonly { bad: number; total: number; allowed: number }[],
  floor: number,
  alpha = GUARD_ALPHA,
): ShareJudgement {
  let pValue = 1;
  let decided = 0;
  let largest = 0;
  windows.forEach((w, i) => {
    if (w.total > windows[largest]!.total) largest = i;
    // Only an excess can be evidence of a breach; skip the tail sum otherwise (most looks).
    if (w.bad <= w.total * w.allowed) return;
    const p = binomialPValue(w.bad, w.total, w.allowed);
    if (p < pValue) [pValue, decided] = [p, i];
  });
  const big = windows[largest] ?? { bad: 0, total: 0, allowed: 0 };
  const minimum = Math.max(floor, minimumSample(big.allowed, alpha));
  const needs = Math.max(0, Math.ceil(minimum - big.total));
  if (pValue < alpha) return { class: 'fail', pValue, window: decided, needs, minimum };
  const verdict = big.total <= 0 ? 'nodata' : needs > 0 ? 'underpowered' : 'pass';
  return { class: verdict, pValue, window: largest, needs, minimum };
}
