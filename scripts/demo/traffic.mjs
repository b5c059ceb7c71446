// The demo's visitors: a small, bounded stream of page views against the splitter on loopback,
// so that the collector has data points and the guard has something to judge. Visitors keep
// their cookies (the split is sticky), are chosen by a seeded generator (a run is repeatable),
// and only send GETs: those are what the splitter may fail over to stable, so no visitor of a
// failing canary should ever see an error page. Every failure a visitor does see is counted.

const PATHS = ['/', '/invoices', '/invoices/42', '/settings', '/templates'];

/** A small seeded generator (mulberry32): the same seed gives the same visitors and pages. */
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Starts the visitors. They stop on `close()`, after `maxRequests`, or after `maxMinutes`,
 * whichever comes first; at most `maxInFlight` requests are open at once (a slow Worker makes
 * the stream thinner, never a pile-up).
 *
 * @param {{ url: string, ratePerSecond?: number, visitors?: number, maxRequests?: number,
 *   maxMinutes?: number, maxInFlight?: number, seed?: number, log?: (line: string) => void }} options
 * @returns {{ stats: () => { sent: number, ok: number, failed: number, cohorts: Record<string, number>, failures: string[] },
 *   close: () => Promise<void> }}
 */
export function startTraffic({
  url,
  ratePerSecond = 4,
  visitors = 2000,
  maxRequests = 50_000,
  maxMinutes = 120,
  maxInFlight = 8,
  seed = 13,
  log = () => {},
}) {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`traffic goes to 127.0.0.1 only, got ${url}`);
  const random = seeded(seed);
  const jars = new Map();
  const stats = { sent: 0, ok: 0, failed: 0, cohorts: {}, failures: [] };
  const inFlight = new Set();
  const endsAt = Date.now() + maxMinutes * 60_000;
  let stopped = false;
  const stopping = new AbortController();

  async function visit() {
    const visitor = Math.floor(random() * visitors);
    const path = PATHS[Math.floor(random() * PATHS.length)];
    const jar = jars.get(visitor) ?? new Map();
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    stats.sent++;
    try {
      const response = await fetch(`${url}${path}`, {
        headers: { 'user-agent': 'edge-rollout-demo-visitor', ...(cookie ? { cookie } : {}) },
        redirect: 'manual',
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(15_000)]),
      });
      await response.arrayBuffer();
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair.indexOf('=');
        if (at > 0) jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
      }
      jars.set(visitor, jar);
      const cohort = response.headers.get('x-rollout-cohort') ?? 'none';
      stats.cohorts[cohort] = (stats.cohorts[cohort] ?? 0) + 1;
      if (response.status >= 500) failed(`GET ${path} → ${response.status} (${cohort})`);
      else stats.ok++;
    } catch (error) {
      if (!stopped)
        failed(
          `GET ${path} → ${error?.name === 'TimeoutError' ? 'timeout' : String(error?.message ?? error)}`,
        );
    }
  }

  function failed(what) {
    stats.failed++;
    if (stats.failures.length < 20) stats.failures.push(what);
    log(`visitor saw a failure: ${what}`);
  }

  const timer = setInterval(
    () => {
      if (stats.sent >= maxRequests || Date.now() > endsAt) {
        log(`traffic stopped after ${stats.sent} requests (its bound)`);
        clearInterval(timer);
        return;
      }
      if (inFlight.size >= maxInFlight) return;
      const request = visit().finally(() => inFlight.delete(request));
      inFlight.add(request);
    },
    Math.max(20, Math.round(1000 / ratePerSecond)),
  );

  return {
    stats: () => structuredClone(stats),
    async close() {
      stopped = true;
      clearInterval(timer);
      stopping.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
