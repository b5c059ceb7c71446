import { request } from 'node:http';
import { workerBehindFaultOrigins } from '../support/local-worker/miniflare-behind-fault-origins';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config-schema';
import { bucket, inPercent } from '../../src/split/bucket';
import { readCookie, isValidVisitorId } from '../../src/split/decide-visitor';
import type { FaultOriginEcho } from '../support/loopback/fault-origin';
import { adminFuzzCases, type AdminFuzzCase } from '../support/fuzz/admin-cases';
import { adminVerdict } from '../support/fuzz/admin-verdict';
import { proxyFuzzCases } from '../support/fuzz/proxy-cases';
import { fuzzRandom, fuzzSeed } from '../support/fuzz/random';
import { rawHttp } from '../support/fuzz/raw-http';
import { adminClient } from '../support/soak/admin-client';

const TOKEN = 'fuzz-token-0123456789abcdefghijklmnop';
const SEED = fuzzSeed(20_261_125);
const ADMIN_CASES = Number(process.env.FUZZ_ADMIN_CASES ?? 1200);
const PROXY_CASES = Number(process.env.FUZZ_PROXY_CASES ?? 1000);
const FLAG_NAMES = ['fileStorage', 'templates', 'emailDelivery', 'analytics', 'newCheckout'];
const SALT = 'fuzz-proxy-salt';

/** What a write may change: the KV replica, and the control plane's version and newest audit entries. */
interface KvSnapshot {
  config: string | null;
  kill: string | null;
  keys: string[];
  version: number;
  /** Versions of the two newest audit entries, newest first. */
  audit: number[];
}

function sendAdmin(url: string, fuzzCase: AdminFuzzCase): Promise<{ status: number; body: string }> {
  const base = new URL(url);
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  for (const [name, value] of Object.entries(fuzzCase.headers))
    if (value !== undefined) headers[name] = value;
  // Node frames a DELETE body only when told to: say chunked explicitly, never leave it unframed.
  if (fuzzCase.chunked) headers['transfer-encoding'] = 'chunked';
  else headers['content-length'] = String(fuzzCase.body.length);
  return new Promise((resolve) => {
    const outgoing = request(
      {
        host: base.hostname,
        port: base.port,
        method: fuzzCase.route.method,
        path: `/__rollout${fuzzCase.path}`,
        headers,
        // A fresh connection per case: one case's leftovers can never be read as the next.
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
    // The Worker may refuse an oversized body before reading it all: its answer still counts.
    outgoing.on('error', (error) => resolve({ status: 0, body: String(error.message) }));
    if (fuzzCase.chunked) {
      const step = 16 * 1024;
      for (let at = 0; at < fuzzCase.body.length; at += step)
        outgoing.write(fuzzCase.body.subarray(at, at + step));
      outgoing.end();
    } else outgoing.end(fuzzCase.body);
  });
}

/** Why an accepted valid write did not have its documented effect, or undefined. */
function effectProblem(
  fuzzCase: AdminFuzzCase,
  body: Record<string, unknown>,
  before: KvSnapshot,
  after: KvSnapshot,
  answer: { changed?: boolean },
): string | undefined {
  const key = fuzzCase.route.key;
  // A link changes no config: only its audit entry (on the current version) is new.
  if (key === 'POST /override-link') {
    const { audit: _auditBefore, ...stateBefore } = before;
    const { audit: _auditAfter, ...stateAfter } = after;
    if (JSON.stringify(stateAfter) !== JSON.stringify(stateBefore)) return 'an override link changed KV';
    return after.audit[0] === after.version ? undefined : `the link's audit entry is on ${after.audit[0]}`;
  }
  const parsed = parseConfig(after.config);
  if (!parsed.ok) return `the stored config is invalid: ${parsed.issues.join('; ')}`;
  if (answer.changed === false)
    return JSON.stringify(after) === JSON.stringify(before)
      ? undefined
      : 'a write that changed nothing changed state';
  // Exactly one audit entry, for the new version, on top of the previous newest one.
  if (after.audit[0] !== after.version || (before.audit[0] ?? null) !== (after.audit[1] ?? null))
    return `audit ${JSON.stringify(before.audit)} → ${JSON.stringify(after.audit)} for version ${after.version}`;
  const config = parsed.config;
  const previous = before.version;
  if (config.version !== after.version)
    return `KV holds ${config.version}, the control plane ${after.version}`;
  if (key === 'PUT /kill') return after.kill ? undefined : 'PUT /kill left no kill switch';
  if (key === 'DELETE /kill') return after.kill === null ? undefined : 'DELETE /kill left a kill switch';
  if (config.version !== previous + 1) return `version ${previous} → ${config.version}`;
  if (key === 'PUT /percent' && config.rollout.percent !== body.percent)
    return `percent is ${config.rollout.percent}`;
  if (key === 'PUT /flags/:name' && config.flags[fuzzCase.flagName!]?.enabled !== body.enabled)
    return `flag ${fuzzCase.flagName} is ${JSON.stringify(config.flags[fuzzCase.flagName!])}`;
  if (key === 'PUT /config') {
    const rollout = body.rollout as { percent: number; salt: string };
    if (config.rollout.percent !== rollout.percent || config.rollout.salt !== rollout.salt)
      return 'config not stored as sent';
  }
  return undefined;
}

describe('fuzz: generated admin bodies on every write route, hostile cookies and headers on proxied requests', () => {
  const world = workerBehindFaultOrigins({
    ADMIN_TOKEN: TOKEN,
    OVERRIDE_SECRET: 'fuzz-override-secret-0123456789abcdef',
    CONFIG_CACHE_SECONDS: '1',
  });

  const snapshot = async (): Promise<KvSnapshot> => {
    const values = (await world.worker.kv.get(['config', 'kill:api'], 'text')) as unknown as Map<
      string,
      string | null
    >;
    const keys = (await world.worker.kv.list()).keys.map((k) => k.name);
    const read = async (path: string) =>
      (
        await fetch(`${world.worker.url}/__rollout${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json() as Promise<any>;
    const state = await read('/state');
    const audit = await read('/audit?limit=2');
    return {
      config: values.get('config') ?? null,
      kill: values.get('kill:api') ?? null,
      keys,
      version: state.version as number,
      audit: (audit.entries as { version: number }[]).map((e) => e.version),
    };
  };

  it('accepts no invalid admin body, answers no 5xx, and leaves KV byte-identical after every refused one', async () => {
    const { stable, canary, worker } = world;
    const admin = adminClient(worker.url, TOKEN);
    const seeded = await admin.call('PUT', '/config', {
      rollout: { percent: 10, salt: SALT },
      flags: Object.fromEntries(FLAG_NAMES.map((name) => [name, { enabled: true, percent: 50 }])),
    });
    expect(seeded.status, seeded.text).toBe(200);
    const random = fuzzRandom(SEED);
    const cases = adminFuzzCases(random, ADMIN_CASES, {
      origins: { stable: stable.url, canary: canary.url },
      flagNames: FLAG_NAMES,
    });
    const failures: string[] = [];
    const byStatus: Record<string, number> = {};
    const byStrategy: Record<string, { invalid: number; accepted: number }> = {};
    let acceptedValid = 0;
    let refusedValid = 0;
    let rejectedInvalid = 0;
    let acceptedInvalid = 0;
    let unchangedChecks = 0;
    let before = await snapshot();
    const started = performance.now();
    for (const [index, fuzzCase] of cases.entries()) {
      const response = await sendAdmin(worker.url, fuzzCase);
      const verdict = adminVerdict(fuzzCase);
      const after = await snapshot();
      const label = `#${index} ${fuzzCase.route.method} ${fuzzCase.path.slice(0, 60)} (${fuzzCase.strategy})`;
      byStatus[response.status] = (byStatus[response.status] ?? 0) + 1;
      const tally = (byStrategy[fuzzCase.strategy] ??= { invalid: 0, accepted: 0 });
      const accepted = response.status >= 200 && response.status < 300;
      if (response.status >= 500 || response.status === 0)
        failures.push(`${label}: ${response.status} ${response.body.slice(0, 200)}`);
      if (response.status >= 400 && response.status < 500) {
        const error = (() => {
          try {
            return (JSON.parse(response.body) as { error?: unknown }).error;
          } catch {
            return undefined;
          }
        })();
        if (typeof error !== 'string')
          failures.push(`${label}: ${response.status} without a JSON error: ${response.body.slice(0, 120)}`);
      }
      if (!verdict.valid) {
        tally.invalid++;
        unchangedChecks++;
        if (accepted) {
          acceptedInvalid++;
          failures.push(
            `${label}: accepted an invalid input (${verdict.why}): ${fuzzCase.body.subarray(0, 200).toString()}`,
          );
        } else rejectedInvalid++;
        if (JSON.stringify(after) !== JSON.stringify(before))
          failures.push(`${label}: KV changed after a refused input`);
      } else if (accepted) {
        acceptedValid++;
        tally.accepted++;
        const problem = effectProblem(fuzzCase, verdict.body, before, after, JSON.parse(response.body));
        if (problem) failures.push(`${label}: ${problem}`);
      } else {
        refusedValid++;
        // A valid input is refused only for what it would do: a lifecycle conflict (409), a
        // stale version (412) or a result that breaks the config (400); and an undo sent
        // without If-Match is asked for one (428: an undo names the version it undoes).
        const preconditionRequired = response.status === 428 && fuzzCase.route.key === 'POST /undo';
        if (![400, 409, 412].includes(response.status) && !preconditionRequired)
          failures.push(`${label}: a valid input got ${response.status} ${response.body.slice(0, 160)}`);
        if (JSON.stringify(after) !== JSON.stringify(before))
          failures.push(`${label}: KV changed after a refused write`);
      }
      before = after;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fuzz-admin: seed ${SEED}, requests ${cases.length}, failures ${failures.length}, duration ${seconds.toFixed(1)} s, ` +
        `invalid ${rejectedInvalid + acceptedInvalid} (accepted ${acceptedInvalid}), valid accepted ${acceptedValid}, ` +
        `valid refused ${refusedValid} (lifecycle, version or semantic conflicts), KV byte-identical checks ${unchangedChecks}, ` +
        `5xx ${Object.entries(byStatus)
          .filter(([s]) => Number(s) >= 500)
          .reduce((n, [, c]) => n + c, 0)}, ` +
        `statuses ${JSON.stringify(byStatus)}`,
    );
    expect(failures.slice(0, 10)).toEqual([]);
    expect(acceptedInvalid).toBe(0);
    // The run covered both sides: most inputs were invalid, and valid ones were really applied.
    expect(rejectedInvalid).toBeGreaterThan(cases.length / 2);
    expect(acceptedValid).toBeGreaterThan(30);
  });

  it('answers hostile cookies and headers on proxied requests from an origin or with a 4xx, never a 5xx, and forwards none of the spoofed headers', async () => {
    const { stable, canary, worker } = world;
    const admin = adminClient(worker.url, TOKEN);
    await admin.call('DELETE', '/kill');
    const reset = await admin.call('PUT', '/config', {
      origins: { stable: stable.url, canary: canary.url },
      rollout: { percent: 50, salt: SALT, state: 'ramping' },
      flags: { templates: { enabled: true, percent: 50 }, analytics: { enabled: true } },
    });
    expect(reset.status, reset.text).toBe(200);
    const port = Number(new URL(worker.url).port);
    const random = fuzzRandom(SEED + 1);
    const cases = proxyFuzzCases(random, PROXY_CASES, port);
    const failures: string[] = [];
    const byStatus: Record<string, number> = {};
    const runtimeRefusals: Record<string, number> = {};
    let issued = 0;
    let servedByOrigin = 0;
    const started = performance.now();
    for (const [index, fuzzCase] of cases.entries()) {
      const response = await rawHttp(port, fuzzCase.bytes);
      const label = `#${index} ${fuzzCase.strategy} (${fuzzCase.headerBytes} header bytes)`;
      byStatus[response.status] = (byStatus[response.status] ?? 0) + 1;
      if (response.status === 0 || response.status >= 500) {
        failures.push(
          `${label}: ${response.status} ${response.error ?? response.body.subarray(0, 200).toString()}`,
        );
        continue;
      }
      if (response.status !== 200) {
        // The runtime's HTTP parser refuses what is not HTTP (control bytes, oversized heads).
        runtimeRefusals[`${fuzzCase.strategy} ${response.status}`] =
          (runtimeRefusals[`${fuzzCase.strategy} ${response.status}`] ?? 0) + 1;
        if (response.status < 400) failures.push(`${label}: unexpected ${response.status}`);
        continue;
      }
      servedByOrigin++;
      const header = (name: string) => response.headers.filter(([n]) => n === name).map(([, v]) => v);
      const cohort = header('x-rollout-cohort')[0];
      const echo = JSON.parse(response.body.toString()) as FaultOriginEcho;
      const seen = echo.headers;
      if (echo.origin !== cohort) failures.push(`${label}: served by ${echo.origin}, labelled ${cohort}`);
      if (seen['x-rollout-cohort'] !== cohort)
        failures.push(`${label}: origin saw cohort ${String(seen['x-rollout-cohort'])}`);
      const flags = JSON.parse(String(seen['x-feature-flags'])) as Record<string, unknown>;
      if (
        !flags ||
        typeof flags !== 'object' ||
        Array.isArray(flags) ||
        !Object.values(flags).every((v) => typeof v === 'boolean') ||
        'admin' in flags
      )
        failures.push(`${label}: origin saw flags ${String(seen['x-feature-flags'])}`);
      const leaked = Object.keys(seen).filter(
        (name) => name.startsWith('x-rollout-') && name !== 'x-rollout-cohort',
      );
      if (leaked.length) failures.push(`${label}: origin saw ${leaked.join(', ')}`);
      if (
        seen['x-forwarded-for'] === '6.6.6.6' ||
        seen.forwarded !== undefined ||
        seen['x-forwarded-host'] !== `127.0.0.1:${port}`
      )
        failures.push(
          `${label}: forwarding headers leaked: ${JSON.stringify([seen['x-forwarded-for'], seen.forwarded, seen['x-forwarded-host']])}`,
        );
      const cookie = header('set-cookie').find((value) => value.startsWith('rollout_id='));
      const newId = cookie && /^rollout_id=([^;]*);/.exec(cookie)?.[1];
      if (cookie) {
        issued++;
        if (
          !isValidVisitorId(newId) ||
          !/; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Lax$/.test(cookie)
        )
          failures.push(`${label}: issued ${cookie}`);
      }
      if (fuzzCase.cookieHeader !== undefined) {
        const expectIssue = !isValidVisitorId(readCookie(fuzzCase.cookieHeader, 'rollout_id'));
        if (expectIssue !== Boolean(cookie))
          failures.push(`${label}: Set-Cookie ${cookie ? 'issued' : 'not issued'} unexpectedly`);
      }
      const deciding = newId ? [newId] : fuzzCase.carriedIds;
      const allowed = deciding.map((id) => (inPercent(bucket(SALT, id), 50) ? 'canary' : 'stable'));
      if (!allowed.includes(cohort as 'stable' | 'canary'))
        failures.push(
          `${label}: cohort ${cohort}, expected ${allowed.join(' or ') || '(no id carried, none issued)'}`,
        );
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fuzz-proxy: seed ${SEED} (+1), requests ${cases.length}, failures ${failures.length}, duration ${seconds.toFixed(1)} s, ` +
        `served by an origin ${servedByOrigin} (fresh cookie issued ${issued}), refused by the runtime ${JSON.stringify(runtimeRefusals)}, ` +
        `statuses ${JSON.stringify(byStatus)}`,
    );
    expect(failures.slice(0, 10)).toEqual([]);
    expect(servedByOrigin).toBeGreaterThan(cases.length / 2);
  });
});
