import { compareHeads, type Head } from '../../src/config/committed-version';
import { SettingsSchema } from '../../src/config/settings';
import {
  HEAD_REFRESH,
  cachedHeadUsable,
  headCheckDue,
  headIsNewer,
  waitForHeadMs,
  type CachedHead,
} from '../../src/propagation/head-decisions';
import { mulberry32 } from '../support/fixtures/seeded-random';

/**
 * `npm run simulate`: a seeded discrete-event simulation of how a write reaches visitors at
 * internet scale. It runs the edge's own decisions, imported from src/ (`headCheckDue`,
 * `waitForHeadMs`, `cachedHeadUsable`, `headIsNewer`, `compareHeads`), with the production
 * settings (HEAD_REFRESH, CONFIG_CACHE_SECONDS's default), and times the network around them:
 *
 * - LOCATIONS locations with Zipf-like request rates (rank⁻¹), 1–8 isolates each by traffic;
 * - KV propagation per location drawn up to and past 60 s (KV lagging: all of it 60–120 s);
 * - a control-plane round trip of 10–300 ms per location (by distance);
 * - failures: the control plane down for 60 s from just after the write.
 *
 * For an API kill (a versioned write) and a hand KV kill (KV `kill`, never versioned), under the
 * head refresh ("new") and under KV only, it prints when 50 %, 99 % and 100 % of requests see
 * the change, the control plane's request rate, and the requests that waited or failed.
 * `SEED=7 npm run simulate` for another draw.
 */

const SEED = Number(process.env.SEED ?? 23);
const LOCATIONS = 300;
const TOTAL_RPS = 3_000;
const WRITE_AT_MS = 15_000;
const HORIZON_MS = WRITE_AT_MS + 130_000;
const KV_TTL_MS =
  SettingsSchema.parse({ STABLE_ORIGIN: 'http://a.test', CANARY_ORIGIN: 'http://b.test' })
    .CONFIG_CACHE_SECONDS * 1000;
const KV_READ_MS = 5;
const LOCATION_CACHE_MS = 1;

interface Scenario {
  name: string;
  change: 'api' | 'hand';
  design: 'new' | 'kv-only';
  controlDownMs?: [number, number];
  kvLagging?: boolean;
}

interface Isolate {
  /** The versioned content served: (epoch, version). The write makes version 1. */
  head: Head;
  /** The hand kill as last read from KV. */
  handKill: boolean;
  kvFetchedAt: number;
  lastCheckAt: number | undefined;
  checking: boolean;
}

interface Location {
  rps: number;
  rttMs: number;
  kvVisibleAt: number;
  isolates: Isolate[];
  cache: CachedHead | undefined;
  committedCached: boolean;
}

const EPOCH = 1;
const BEFORE: Head = { epoch: EPOCH, version: 0 };
const AFTER: Head = { epoch: EPOCH, version: 1 };

/** A tiny binary heap of timed callbacks. */
class Events {
  private heap: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;
  push(at: number, run: () => void): void {
    const heap = this.heap;
    heap.push({ at, seq: this.seq++, run });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.less(heap[parent]!, heap[i]!)) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }
  pop(): { at: number; run: () => void } | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && this.less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  }
  private less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

interface Result {
  scenario: Scenario;
  /** Seconds after the write until 50 / 99 / 100 % of requests see it. */
  p50: number;
  p99: number;
  p100: number;
  controlRps: number;
  requests: number;
  waited: number;
  maxWaitMs: number;
}

function simulate(scenario: Scenario): Result {
  const random = mulberry32(SEED);
  const harmonic = Array.from({ length: LOCATIONS }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
  const locations: Location[] = Array.from({ length: LOCATIONS }, (_, i) => {
    const rps = TOTAL_RPS / (i + 1) / harmonic;
    const draw = random();
    // Most locations see a KV write within 20 s, a quarter within 60 s, some only after it.
    const kvDelay = scenario.kvLagging
      ? 60_000 + random() * 60_000
      : draw < 0.7
        ? 2_000 + random() * 18_000
        : draw < 0.95
          ? 20_000 + random() * 40_000
          : 60_000 + random() * 30_000;
    return {
      rps,
      rttMs: 10 + random() * 290,
      kvVisibleAt: WRITE_AT_MS + kvDelay,
      isolates: Array.from({ length: Math.min(8, 1 + Math.floor(rps / 40)) }, () => ({
        head: BEFORE,
        handKill: false,
        kvFetchedAt: Number.NEGATIVE_INFINITY,
        lastCheckAt: undefined,
        checking: false,
      })),
      cache: undefined,
      committedCached: false,
    };
  });
  const events = new Events();
  const controlUp = (t: number) =>
    !scenario.controlDownMs || t < scenario.controlDownMs[0] || t >= scenario.controlDownMs[1];
  const committedHead = (t: number): Head => (scenario.change === 'api' && t >= WRITE_AT_MS ? AFTER : BEFORE);
  let controlRequests = 0;
  const bins = new Map<number, { seen: number; total: number }>();
  let lastUnseen = 0;
  let requests = 0;
  let waited = 0;
  let maxWaitMs = 0;

  const kvHeadAt = (location: Location, t: number): Head =>
    scenario.change === 'api' && t >= location.kvVisibleAt ? AFTER : BEFORE;
  const kvHandAt = (location: Location, t: number): boolean =>
    scenario.change === 'hand' && t >= location.kvVisibleAt;

  /** A KV read: the store takes a version only when it is newer (compareHeads), and the hand kill always. */
  function readKv(location: Location, isolate: Isolate, t: number): void {
    isolate.kvFetchedAt = t;
    const head = kvHeadAt(location, t);
    if (compareHeads(head, isolate.head) > 0) isolate.head = head;
    isolate.handKill = kvHandAt(location, t);
  }

  /** The head check, as HeadRefresher runs it; calls `done` at the simulated time it completes. */
  function check(location: Location, isolate: Isolate, t: number, done: (at: number) => void): void {
    isolate.checking = true;
    const finish = (at: number) => {
      isolate.checking = false;
      done(at);
    };
    const withHead = (at: number, head: Head) => {
      if (!headIsNewer(head, isolate.head)) return finish(at);
      if (location.committedCached) {
        isolate.head = head;
        return finish(at + LOCATION_CACHE_MS);
      }
      controlRequests++;
      const back = at + location.rttMs;
      if (!controlUp(at) || location.rttMs > HEAD_REFRESH.configTimeoutMs) {
        // The control plane named a version it cannot send: KV now (the store's readNow).
        events.push(back, () => {
          readKv(location, isolate, back);
          finish(back + KV_READ_MS);
        });
        return;
      }
      events.push(back, () => {
        location.committedCached = true;
        if (compareHeads(head, isolate.head) > 0) isolate.head = head;
        finish(back);
      });
    };
    const at = t + LOCATION_CACHE_MS;
    if (cachedHeadUsable(location.cache, at, HEAD_REFRESH)) return withHead(at, location.cache!.head);
    controlRequests++;
    if (!controlUp(at)) {
      // Refused at once, or a timeout: the check fails and the isolate keeps what it has.
      const failAt = at + Math.min(location.rttMs, HEAD_REFRESH.headTimeoutMs);
      events.push(failAt, () => finish(failAt));
      return;
    }
    const back = at + location.rttMs;
    const head = committedHead(at + location.rttMs / 2);
    events.push(back, () => {
      location.cache = {
        head: { epoch: head.epoch!, version: head.version, kill: null, committedAt: WRITE_AT_MS },
        fetchedAt: back,
      };
      withHead(back, head);
    });
  }

  function serve(isolate: Isolate, t: number): void {
    requests++;
    const seen = scenario.change === 'api' ? compareHeads(isolate.head, AFTER) >= 0 : isolate.handKill;
    if (t >= WRITE_AT_MS) {
      const bin = Math.floor((t - WRITE_AT_MS) / 100);
      const entry = bins.get(bin) ?? { seen: 0, total: 0 };
      entry.total++;
      if (seen) entry.seen++;
      else lastUnseen = t;
      bins.set(bin, entry);
    }
  }

  function request(location: Location, t: number): void {
    const isolate = location.isolates[Math.floor(random() * location.isolates.length)]!;
    if (t - isolate.kvFetchedAt >= KV_TTL_MS) readKv(location, isolate, t);
    if (
      scenario.design === 'new' &&
      !isolate.checking &&
      headCheckDue(t, isolate.lastCheckAt, HEAD_REFRESH)
    ) {
      const waitMs = waitForHeadMs(t, isolate.lastCheckAt, HEAD_REFRESH);
      isolate.lastCheckAt = t;
      if (waitMs > 0) {
        // This request waits for the check, at most waitMs; then it is served what the isolate has.
        waited++;
        let served = false;
        check(location, isolate, t, (at) => {
          if (served || at > t + waitMs) return;
          served = true;
          maxWaitMs = Math.max(maxWaitMs, at - t);
          serve(isolate, at);
        });
        events.push(t + waitMs, () => {
          if (served) return;
          served = true;
          maxWaitMs = Math.max(maxWaitMs, waitMs);
          serve(isolate, t + waitMs);
        });
        return;
      }
      check(location, isolate, t, () => {});
    }
    serve(isolate, t);
  }

  for (const location of locations) {
    const next = (t: number) => t - Math.log(1 - random()) * (1000 / location.rps);
    const arrive = (t: number) => {
      if (t > HORIZON_MS) return;
      request(location, t);
      events.push(next(t), () => arrive(next(t)));
    };
    events.push(next(0), () => arrive(next(0)));
  }
  for (let event = events.pop(); event; event = events.pop()) event.run();

  const after = (share: number) => {
    const sorted = [...bins.entries()].sort((a, b) => a[0] - b[0]);
    let from = 0;
    for (const [bin, { seen, total }] of sorted) if (seen / total < share) from = bin + 1;
    return (from * 100) / 1000;
  };
  return {
    scenario,
    p50: after(0.5),
    p99: after(0.99),
    p100: Math.max(0, (lastUnseen - WRITE_AT_MS) / 1000),
    controlRps: controlRequests / (HORIZON_MS / 1000),
    requests,
    waited,
    maxWaitMs,
  };
}

const scenarios: Scenario[] = [
  { name: 'API kill', change: 'api', design: 'new' },
  { name: 'API kill', change: 'api', design: 'kv-only' },
  { name: 'hand KV kill', change: 'hand', design: 'new' },
  { name: 'hand KV kill', change: 'hand', design: 'kv-only' },
  {
    name: 'API kill, control plane down 60 s',
    change: 'api',
    design: 'new',
    controlDownMs: [WRITE_AT_MS + 500, WRITE_AT_MS + 60_500],
  },
  { name: 'API kill, KV lagging (60–120 s)', change: 'api', design: 'new', kvLagging: true },
  { name: 'API kill, KV lagging (60–120 s)', change: 'api', design: 'kv-only', kvLagging: true },
];

const started = Date.now();
console.log(
  `propagation simulation, seed ${SEED}: ${LOCATIONS} locations, ${TOTAL_RPS} req/s (Zipf), control-plane RTT 10–300 ms`,
);
console.log(
  `settings (src/propagation/head-decisions.ts HEAD_REFRESH): interval ${HEAD_REFRESH.intervalMs} ms, ` +
    `freshness bound ${HEAD_REFRESH.freshnessBoundMs} ms, cold wait ${HEAD_REFRESH.coldWaitMs} ms, ` +
    `head timeout ${HEAD_REFRESH.headTimeoutMs} ms, config timeout ${HEAD_REFRESH.configTimeoutMs} ms; ` +
    `KV isolate cache (CONFIG_CACHE_SECONDS default) ${KV_TTL_MS / 1000} s`,
);
const results = scenarios.map(simulate);
const pad = (text: string, width: number) => text.padEnd(width);
console.log('');
console.log(
  `| ${pad('change', 36)} | ${pad('design', 7)} | 50 %    | 99 %    | 100 %   | control plane | requests that waited | longest wait |`,
);
console.log(
  `| ${'-'.repeat(36)} | ------- | ------- | ------- | ------- | ------------- | -------------------- | ------------ |`,
);
for (const r of results)
  console.log(
    `| ${pad(r.scenario.name, 36)} | ${pad(r.scenario.design, 7)} | ${pad(`${r.p50.toFixed(1)} s`, 7)} | ${pad(`${r.p99.toFixed(1)} s`, 7)} | ${pad(`${r.p100.toFixed(1)} s`, 7)} | ${pad(`${r.controlRps.toFixed(0)} req/s`, 13)} | ${pad(`${((100 * r.waited) / r.requests).toFixed(3)} %`, 20)} | ${pad(`${r.maxWaitMs.toFixed(0)} ms`, 12)} |`,
  );
console.log('');
console.log(
  `${results.reduce((n, r) => n + r.requests, 0)} simulated requests in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
const api = results[0]!;
const kvOnly = results[1]!;
console.log(
  `api kill p99 time-to-effect: ${api.p99.toFixed(1)} s (KV only: ${kvOnly.p99.toFixed(1)} s); control-plane load: ${api.controlRps.toFixed(0)} req/s at ${LOCATIONS} locations`,
);
