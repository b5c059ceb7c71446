import { describe, expect, it } from 'vitest';
import { workerBehindFaultOrigins } from '../support/local-worker/miniflare-behind-fault-origins';
import type { Cohort } from '../../src/split/decide-visitor';
import { bucket, inPercent } from '../../src/split/bucket';
import type { FaultOriginEcho } from '../support/loopback/fault-origin';
import type { MiniflareWorker, WorkerLogLine } from '../support/local-worker/miniflare';
import { adminClient, type AdminClient } from '../support/soak/admin-client';
import { inLanes, soakClient, type SoakClient } from '../support/soak/client';

const TOKEN = 'faults-kv-token-0123456789abcdef';
const CACHE_SECONDS = 1;
const SETTLE_MS = CACHE_SECONDS * 1000 + 150;
const TRAFFIC_MS = 1600; // longer than the cache period: each fault is read from KV more than once
const CONCURRENCY = 8;
const VISITORS = 400;

/** A config the Worker may be serving, and what a visitor should see under it. */
interface Served {
  name: 'safe default' | 'last known good' | 'recovered';
  cohort(visitorId: string): Cohort;
  flags: Record<string, boolean>;
}

const GOOD_SALT = 'kv-faults-salt';
const GOOD_CONFIG = {
  rollout: { percent: 50, salt: GOOD_SALT },
  flags: {
    fileStorage: { enabled: true },
    templates: { enabled: false, default: true },
    emailDelivery: { enabled: false },
    analytics: { enabled: true },
    kvMarker: { enabled: true },
  },
};
const RECOVERED_CONFIG = {
  rollout: { percent: 100, salt: 'kv-faults-recovered', state: 'promoted' },
  flags: { analytics: { enabled: true }, kvMarker: { enabled: false } },
};

const SAFE_DEFAULT: Served = {
  name: 'safe default',
  cohort: () => 'stable',
  // DEFAULT_FLAGS in wrangler.toml.
  flags: { fileStorage: false, templates: false, emailDelivery: false, analytics: true },
};
const LAST_KNOWN_GOOD: Served = {
  name: 'last known good',
  cohort: (id) => (inPercent(bucket(GOOD_SALT, id), 50) ? 'canary' : 'stable'),
  flags: { fileStorage: true, templates: true, emailDelivery: false, analytics: true, kvMarker: true },
};
const RECOVERED: Served = {
  name: 'recovered',
  cohort: () => 'canary',
  flags: { analytics: true, kvMarker: false },
};

/** One incident: what is done to KV, what must be served, and the one log line it must cause. */
interface Incident {
  name: string;
  apply(worker: MiniflareWorker, admin: AdminClient): Promise<void>;
  served: Served;
  log: { level: 'error' | 'warn' | 'info'; prefix: string; servedFrom?: string };
}

const CONFIG_STORE_MESSAGES = ['config store', 'no config in KV', 'invalid config in KV'];

const INCIDENTS: Incident[] = [
  {
    name: 'cold isolate, KV throwing',
    apply: async (worker) => worker.setKvMode('throw'),
    served: SAFE_DEFAULT,
    log: { level: 'error', prefix: 'config store unreachable', servedFrom: 'safe-default' },
  },
  {
    name: 'KV back, key missing',
    apply: async (worker) => worker.setKvMode('ok'),
    served: SAFE_DEFAULT,
    log: { level: 'warn', prefix: 'no config in KV', servedFrom: 'safe-default' },
  },
  {
    name: 'corrupt JSON, nothing good ever read',
    apply: async (worker) => worker.kv.put('config', '{"version": 3, "rollout": {"percent": 50,'),
    served: SAFE_DEFAULT,
    log: {
      level: 'error',
      prefix: 'invalid config in KV: config is not valid JSON',
      servedFrom: 'safe-default',
    },
  },
  {
    name: 'valid config written through the admin API',
    apply: async (_worker, admin) => {
      const answer = await admin.call('PUT', '/config', GOOD_CONFIG);
      if (answer.status !== 200) throw new Error(`PUT /config: ${answer.status} ${answer.text}`);
    },
    served: LAST_KNOWN_GOOD,
    log: { level: 'info', prefix: 'config store recovered' },
  },
  {
    // From here KV holds the control plane's replica: `config` and `committed` (the edge reads
    // both; a fault of the replica is a fault of both).
    name: 'corrupt JSON',
    apply: async (worker) => replica(worker, '{"version": 3, "rollout": {"percent": 50,'),
    served: LAST_KNOWN_GOOD,
    log: {
      level: 'error',
      prefix: 'invalid config in KV: config is not valid JSON',
      servedFrom: 'last-known-good',
    },
  },
  {
    name: 'schema-violating value',
    apply: (worker) =>
      replica(
        worker,
        JSON.stringify({
          version: 4,
          rollout: { percent: 250, salt: '' },
          flags: { 'bad name!': { enabled: 'yes' } },
          surprise: true,
        }),
      ),
    served: LAST_KNOWN_GOOD,
    log: { level: 'error', prefix: 'invalid config in KV: ', servedFrom: 'last-known-good' },
  },
  {
    name: 'key missing',
    apply: async (worker) => {
      await worker.kv.delete('config');
      await worker.kv.delete('committed');
    },
    served: LAST_KNOWN_GOOD,
    log: { level: 'error', prefix: 'no config in KV', servedFrom: 'last-known-good' },
  },
  {
    name: 'KV throwing',
    apply: async (worker) => worker.setKvMode('throw'),
    served: LAST_KNOWN_GOOD,
    log: { level: 'error', prefix: 'config store unreachable', servedFrom: 'last-known-good' },
  },
  {
    name: 'KV back with a new valid config',
    // The control plane took a write during the outage (below), so the new config is written
    // through it: KV by hand would be overwritten by the replica catching up, as designed.
    apply: async (worker, admin) => {
      worker.setKvMode('ok');
      const answer = await admin.call('PUT', '/config', RECOVERED_CONFIG);
      if (answer.status !== 200) throw new Error(`recovery write refused: ${answer.status}`);
    },
    served: RECOVERED,
    log: { level: 'info', prefix: 'config store recovered' },
  },
];

/** Writes the same value to both keys of the replica the edge reads. */
async function replica(worker: MiniflareWorker, value: string): Promise<void> {
  await worker.kv.put('config', value);
  await worker.kv.put('committed', value);
}

interface IncidentFigures {
  requests: number;
  fiveHundreds: number;
  wrong: string[];
  kvCalls: number;
  incidentLines: number;
  otherStoreLines: string[];
}

function visitorId(index: number): string {
  return `kv-visitor-${String(index).padStart(5, '0')}`;
}

function sortedJson(value: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))));
}

async function trafficFor(client: SoakClient, served: Served, figures: IncidentFigures): Promise<void> {
  const judge = async (v: number) => {
    const id = visitorId(v);
    const response = await client.send({ path: `/app/${v % 13}`, headers: { cookie: `rollout_id=${id}` } });
    figures.requests++;
    if (response.status >= 500 || response.status === 0) figures.fiveHundreds++;
    if (response.status !== 200)
      return void figures.wrong.push(`status ${response.status}: ${response.body}`);
    const echo = JSON.parse(response.body) as FaultOriginEcho;
    const cohort = served.cohort(id);
    if (echo.origin !== cohort)
      figures.wrong.push(`${id}: ${echo.origin}, expected ${cohort} (${served.name})`);
    const flags = sortedJson(JSON.parse(String(echo.headers['x-feature-flags'])) as Record<string, unknown>);
    if (flags !== sortedJson(served.flags))
      figures.wrong.push(`${id}: flags ${flags}, expected ${sortedJson(served.flags)} (${served.name})`);
  };
  // One request first: it waits for the cache refresh that the rest may overlap.
  await judge(0);
  const end = performance.now() + TRAFFIC_MS;
  let next = 1;
  await inLanes(CONCURRENCY, async () => {
    while (performance.now() < end && next < 5000) await judge(next++ % VISITORS);
  });
}

function isStoreLine(line: WorkerLogLine): boolean {
  return CONFIG_STORE_MESSAGES.some((prefix) => line.message.startsWith(prefix));
}

describe('KV faults: corrupt, schema-violating, missing and throwing KV under traffic', () => {
  const world = workerBehindFaultOrigins(
    {
      ADMIN_TOKEN: TOKEN,
      CONFIG_CACHE_SECONDS: String(CACHE_SECONDS),
    },
    { kvFaults: true },
  );

  it('never answers 5xx, serves the safe default until a good config was read and the last known good after, and logs each incident once', async () => {
    const { worker } = world;
    const admin = adminClient(worker.url, TOKEN);
    const client = soakClient(worker.url, { concurrency: CONCURRENCY });
    const results: { incident: Incident; figures: IncidentFigures }[] = [];
    let adminDuringOutage: { status: number; lagging: boolean | undefined } | undefined;
    const started = performance.now();
    for (const incident of INCIDENTS) {
      const linesBefore = worker.logLines().length;
      const callsBefore = worker.kvCalls();
      await incident.apply(worker, admin);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const figures: IncidentFigures = {
        requests: 0,
        fiveHundreds: 0,
        wrong: [],
        kvCalls: 0,
        incidentLines: 0,
        otherStoreLines: [],
      };
      await trafficFor(client, incident.served, figures);
      figures.kvCalls = worker.kvCalls() - callsBefore;
      for (const line of worker.logLines().slice(linesBefore).filter(isStoreLine)) {
        const matches =
          line.level === incident.log.level &&
          line.message.startsWith(incident.log.prefix) &&
          (incident.log.servedFrom === undefined || line.servedFrom === incident.log.servedFrom);
        if (matches) figures.incidentLines++;
        else figures.otherStoreLines.push(`${line.level} ${line.message} (${String(line.servedFrom)})`);
      }
      results.push({ incident, figures });
      if (incident.name === 'KV throwing') {
        // The control plane does not need KV to take a write: it commits, and its answer says
        // the replica lags until KV is back.
        const answer = await fetch(`${worker.url}/__rollout/percent`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ percent: 10 }),
        });
        const body = (await answer.json()) as { replica?: { lagging: boolean }; version?: number };
        adminDuringOutage = { status: answer.status, lagging: body.replica?.lagging };
      }
    }
    const seconds = (performance.now() - started) / 1000;
    client.close();

    const requests = results.reduce((n, r) => n + r.figures.requests, 0);
    const fiveHundreds = results.reduce((n, r) => n + r.figures.fiveHundreds, 0);
    const wrong = results.flatMap((r) => r.figures.wrong);
    console.log(
      `faults-kv: requests ${requests}, failures ${wrong.length}, duration ${seconds.toFixed(1)} s, 5xx ${fiveHundreds}, ` +
        `admin write during the outage ${adminDuringOutage?.status} (replica lagging: ${adminDuringOutage?.lagging}); ` +
        results
          .map(
            ({ incident, figures }) =>
              `${incident.name}: ${figures.requests} req served ${incident.served.name}, KV calls ${figures.kvCalls}, ` +
              `log lines ${figures.incidentLines}${figures.otherStoreLines.length ? ` (+${figures.otherStoreLines.length} other)` : ''}`,
          )
          .join('; '),
    );

    expect(fiveHundreds).toBe(0);
    expect(wrong.slice(0, 5)).toEqual([]);
    for (const { incident, figures } of results) {
      expect(figures.incidentLines, `${incident.name}: log lines`).toBe(1);
      expect(figures.otherStoreLines, incident.name).toEqual([]);
      // Each fault was met by more than one KV read, so "once" really means deduplicated.
      expect(figures.kvCalls, incident.name).toBeGreaterThan(1);
    }
    expect(adminDuringOutage).toEqual({ status: 200, lagging: true });
  });
});
