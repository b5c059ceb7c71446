import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../support/in-workerd/test-app';

const TOKEN = 'test-admin-token-0123456789abcdef';
const kv = (env as unknown as { ROLLOUT: KVNamespace }).ROLLOUT;

interface Case {
  name: string;
  method: string;
  path: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

const VALID_CONFIG = {
  rollout: { percent: 10, salt: 'launch-1', state: 'ramping', steps: [10, 50, 100], bakeMinutes: 15 },
  stickiness: { cookieName: 'rollout_id', maxAgeSeconds: 86_400, identityHeader: 'x-user-id' },
  flags: { templates: { enabled: true, percent: 50 }, emailDelivery: { enabled: false, default: false } },
  failover: { statuses: [502, 503], timeoutMs: 5000 },
  bootstrapFlags: false,
  routes: [{ name: 'invoice_created', method: 'POST', pattern: '/api/invoices' }],
  thresholds: { maxErrorRatePercent: 1 },
};

// Values of every JSON type (plus numbers JSON parsing turns into Infinity), to put where they do not belong.
const WRONG: [string, unknown][] = [
  ['null', null],
  ['true', true],
  ['string', 'x'],
  ['number string', '10'],
  ['negative', -1],
  ['huge', 1e308],
  ['array', []],
  ['object', {}],
];

function setPath(target: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(target);
  let node = copy as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return copy;
}

function jsonType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function mutations(method: string, path: string, valid: Record<string, unknown>, fields: string[][]): Case[] {
  const cases: Case[] = [];
  for (const field of fields) {
    const label = field.join('.');
    for (const [kind, value] of WRONG) {
      const mutated = setPath(valid, field, value);
      const original = field.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], valid);
      // A value of the valid one's JSON type may well be valid; numbers stay in (out of range).
      if (jsonType(original) === jsonType(value) && typeof value !== 'number') continue;
      cases.push({ name: `${label} = ${kind}`, method, path, body: JSON.stringify(mutated) });
    }
    if (field.length > 1)
      cases.push({
        name: `${label} missing`,
        method,
        path,
        body: JSON.stringify(setPath(valid, field, undefined)),
      });
  }
  cases.push({ name: 'unknown root field', method, path, body: JSON.stringify({ ...valid, surprise: 1 }) });
  const infinite = JSON.stringify(valid).replace(/:(\d+)/, ':1e999');
  if (infinite !== JSON.stringify(valid))
    cases.push({ name: 'Infinity via 1e999', method, path, body: infinite });
  return cases;
}

function brokenBodies(method: string, path: string): Case[] {
  const bodies: [string, string | Uint8Array][] = [
    ['empty', ''],
    ['truncated', '{"percent":'],
    ['unquoted keys', '{percent: 10}'],
    ['single quotes', "{'percent': 10}"],
    ['trailing comma', '{"percent": 10,}'],
    ['NaN literal', '{"percent": NaN}'],
    ['JSON null', 'null'],
    ['JSON array', '[]'],
    ['JSON number', '10'],
    ['JSON string', '"percent"'],
    ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
    ['over 64 KiB', JSON.stringify({ percent: 10, reason: 'x'.repeat(70_000) })],
  ];
  return bodies
    .filter(([name]) => !(name === 'empty' && path !== '/percent' && method === 'POST'))
    .map(([name, body]) => ({ name: `${name} body`, method, path, body }));
}

function allCases(): Case[] {
  const cases: Case[] = [];
  cases.push(...mutations('PUT', '/percent', { percent: 10, reason: 'ramp' }, [['percent'], ['reason']]));
  for (const percent of [-0.01, 100.01, 101, 12.345, 0.001])
    cases.push({
      name: `percent ${percent}`,
      method: 'PUT',
      path: '/percent',
      body: JSON.stringify({ percent }),
    });
  cases.push({ name: 'percent missing', method: 'PUT', path: '/percent', body: '{}' });
  cases.push({
    name: 'reason too long',
    method: 'PUT',
    path: '/percent',
    body: JSON.stringify({ percent: 1, reason: 'r'.repeat(501) }),
  });
  cases.push(...brokenBodies('PUT', '/percent'));

  const configFields = [
    ['version'],
    ['rollout'],
    ['rollout', 'percent'],
    ['rollout', 'salt'],
    ['rollout', 'state'],
    ['rollout', 'steps'],
    ['rollout', 'bakeMinutes'],
    ['stickiness', 'cookieName'],
    ['stickiness', 'maxAgeSeconds'],
    ['stickiness', 'identityHeader'],
    ['flags'],
    ['failover', 'statuses'],
    ['failover', 'timeoutMs'],
    ['bootstrapFlags'],
    ['routes'],
    ['thresholds'],
  ];
  cases.push(
    ...mutations('PUT', '/config', VALID_CONFIG, configFields).filter(
      (c) =>
        !/^(version|rollout\.(state|steps|bakeMinutes)|stickiness\.\w+|failover\.\w+|flags|bootstrapFlags|routes|thresholds) missing$/.test(
          c.name,
        ),
    ),
  );
  const out: [string, string[], unknown][] = [
    ['percent above 100', ['rollout', 'percent'], 100.5],
    ['empty salt', ['rollout', 'salt'], ''],
    ['salt over 64', ['rollout', 'salt'], 's'.repeat(65)],
    ['unknown state', ['rollout', 'state'], 'launched'],
    ['idle at 10 %', ['rollout', 'state'], 'idle'],
    ['promoted at 10 %', ['rollout', 'state'], 'promoted'],
    ['bake 0 minutes', ['rollout', 'bakeMinutes'], 0],
    ['bake 1.5 minutes', ['rollout', 'bakeMinutes'], 1.5],
    ['step 120', ['rollout', 'steps'], [10, 120]],
    ['no steps', ['rollout', 'steps'], []],
    ['stepStartedAt not ISO', ['rollout', 'stepStartedAt'], 'yesterday'],
    ['unknown rollout field', ['rollout', 'speed'], 'fast'],
    ['cookie name with space', ['stickiness', 'cookieName'], 'rollout id'],
    ['cookie max age 59 s', ['stickiness', 'maxAgeSeconds'], 59],
    ['upper-case identity header', ['stickiness', 'identityHeader'], 'X-User'],
    ['flag name with a digit first', ['flags'], { '1flag': { enabled: true } }],
    ['flag percent 200', ['flags', 'templates', 'percent'], 200],
    ['flag unknown field', ['flags', 'templates', 'colour'], 'red'],
    ['flag enabled as string', ['flags', 'templates', 'enabled'], 'yes'],
    ['failover status 404', ['failover', 'statuses'], [404]],
    ['failover timeout 99 ms', ['failover', 'timeoutMs'], 99],
    ['route pattern without slash', ['routes'], [{ name: 'x', method: 'GET', pattern: 'api' }]],
    ['route method TRACE', ['routes'], [{ name: 'x', method: 'TRACE', pattern: '/x' }]],
    ['route name upper-case', ['routes'], [{ name: 'X', method: 'GET', pattern: '/x' }]],
    ['threshold above 100 %', ['thresholds', 'maxErrorRatePercent'], 101],
    ['unknown threshold', ['thresholds', 'maxCpu'], 1],
    ['origins ftp', ['origins'], { stable: 'ftp://a.example', canary: 'https://b.example' }],
    ['origins with query', ['origins'], { stable: 'https://a.example/?q=1', canary: 'https://b.example' }],
    [
      'origins with credentials',
      ['origins'],
      { stable: 'https://u:p@a.example', canary: 'https://b.example' },
    ],
    ['origins missing canary', ['origins'], { stable: 'https://a.example' }],
    ['negative version', ['version'], -1],
    ['fractional version', ['version'], 1.5],
  ];
  for (const [name, path, value] of out)
    cases.push({
      name,
      method: 'PUT',
      path: '/config',
      body: JSON.stringify(setPath(VALID_CONFIG, path, value)),
    });
  cases.push({
    name: '201 flags',
    method: 'PUT',
    path: '/config',
    body: JSON.stringify({
      ...VALID_CONFIG,
      flags: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`f${i}`, { enabled: true }])),
    }),
  });
  cases.push(...brokenBodies('PUT', '/config'));

  cases.push(
    ...mutations('PUT', '/flags/templates', { enabled: true, percent: 50 }, [['enabled'], ['percent']]),
  );
  cases.push({
    name: 'flag enabled missing',
    method: 'PUT',
    path: '/flags/templates',
    body: '{"percent":5}',
  });
  for (const name of ['1abc', 'a%20b', 'x'.repeat(65), '%F0%9F%9A%80', 'a:b'])
    cases.push({
      name: `flag name ${name}`,
      method: 'PUT',
      path: `/flags/${name}`,
      body: '{"enabled":true}',
    });
  cases.push(...brokenBodies('PUT', '/flags/templates'));

  for (const transition of ['promote', 'finalize', 'abort', 'pause', 'resume', 'undo']) {
    for (const [kind, value] of WRONG.filter(([, v]) => typeof v !== 'string'))
      cases.push({
        name: `${transition} reason = ${kind}`,
        method: 'POST',
        path: `/${transition}`,
        body: JSON.stringify({ reason: value }),
      });
    cases.push({
      name: `${transition} empty reason`,
      method: 'POST',
      path: `/${transition}`,
      body: '{"reason":""}',
    });
    cases.push({
      name: `${transition} unknown field`,
      method: 'POST',
      path: `/${transition}`,
      body: '{"force":true}',
    });
    cases.push({ name: `${transition} array body`, method: 'POST', path: `/${transition}`, body: '[]' });
    cases.push({
      name: `${transition} broken JSON`,
      method: 'POST',
      path: `/${transition}`,
      body: '{"reason":',
    });
  }

  cases.push(...mutations('PUT', '/kill', { canary: true, flags: ['templates'] }, [['canary'], ['flags']]));
  for (const body of [
    {},
    { canary: false },
    { flags: [] },
    { canary: false, allFlags: false, flags: [] },
    { flags: ['no such flag'] },
    { flags: ['unknownFlag'] },
    { flags: [1] },
    { allFlags: 'yes' },
  ])
    cases.push({
      name: `kill ${JSON.stringify(body)}`,
      method: 'PUT',
      path: '/kill',
      body: JSON.stringify(body),
    });
  cases.push(...brokenBodies('PUT', '/kill'));
  cases.push({ name: 'unkill with a bad reason', method: 'DELETE', path: '/kill', body: '{"reason":5}' });

  cases.push(
    ...mutations('POST', '/override-link', { cohort: 'canary', ttlSeconds: 3600 }, [
      ['cohort'],
      ['ttlSeconds'],
    ]),
  );
  for (const ttlSeconds of [59, 604_801, 3600.5, 0])
    cases.push({
      name: `override ttl ${ttlSeconds}`,
      method: 'POST',
      path: '/override-link',
      body: JSON.stringify({ cohort: 'canary', ttlSeconds }),
    });
  cases.push({
    name: 'override cohort beta',
    method: 'POST',
    path: '/override-link',
    body: '{"cohort":"beta"}',
  });
  cases.push(...brokenBodies('POST', '/override-link'));

  for (const ifMatch of ['abc', '*', '-1', '1.5', '', 'W/"13"', 'W/13', '"13', '13"', '"1", "2"', '1, 2'])
    cases.push({
      name: `If-Match ${JSON.stringify(ifMatch)}`,
      method: 'PUT',
      path: '/percent',
      body: '{"percent":20}',
      headers: { 'if-match': ifMatch },
    });
  for (const query of ['limit=0', 'limit=101', 'limit=ten', 'limit=-1', 'cursor=', 'limit=6x', 'extra=1'])
    cases.push({ name: `audit ?${query}`, method: 'GET', path: `/audit?${query}` });
  return cases;
}

async function snapshot(): Promise<Map<string, string | null>> {
  const keys = (await kv.list()).keys.map((k) => k.name).sort();
  const entries = await Promise.all(keys.map(async (key) => [key, await kv.get(key)] as const));
  return new Map(entries);
}

describe('malformed admin input', () => {
  const { request } = testApp();
  const send = (c: Case) =>
    request(`/__rollout${c.path}`, {
      method: c.method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...c.headers },
      ...(c.body === undefined ? {} : { body: c.body }),
    });

  beforeAll(async () => {
    // A real starting point: a stored config, its history and audit entries, a kill switch.
    const seeded = await send({
      name: 'seed',
      method: 'PUT',
      path: '/config',
      body: JSON.stringify(VALID_CONFIG),
    });
    expect(seeded.status).toBe(200);
    const killed = await send({
      name: 'seed kill',
      method: 'PUT',
      path: '/kill',
      body: JSON.stringify({ flags: ['templates'] }),
    });
    expect(killed.status).toBe(200);
  });

  it('(fixture) generates well over 200 distinct malformed requests', () => {
    const cases = allCases();
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(new Set(cases.map((c) => `${c.method} ${c.path} ${c.name}`)).size).toBe(cases.length);
  });

  // What a refused write must leave as it was: the control plane's state and audit, and the replica.
  const controlSnapshot = async () => {
    const read = async (path: string) =>
      (await request(`/__rollout${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    return { state: await read('/state'), audit: await read('/audit?limit=100') };
  };

  it('answers every one with 400 and { error, issues? }, and the control plane and KV keep everything', async () => {
    const before = await snapshot();
    const controlBefore = await controlSnapshot();
    expect(before.size).toBeGreaterThanOrEqual(2);
    expect(before.get('kill:api')).toBeTruthy();
    expect((controlBefore.audit as { entries: unknown[] }).entries).toHaveLength(2);
    const failures: string[] = [];
    for (const c of allCases()) {
      const response = await send(c);
      const body = (await response.json()) as { error?: unknown; issues?: unknown };
      if (response.status !== 400 || typeof body.error !== 'string')
        failures.push(
          `${c.method} ${c.path} ${c.name}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`,
        );
      if (body.issues !== undefined && (!Array.isArray(body.issues) || body.issues.length === 0))
        failures.push(`${c.name}: empty issues`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect(await controlSnapshot()).toEqual(controlBefore);
  });

  it('explains what is wrong, path by path', async () => {
    const response = await send({
      name: 'x',
      method: 'PUT',
      path: '/percent',
      body: '{"percent":150,"extra":1}',
    });
    expect(await response.json()).toEqual({
      error: 'invalid body',
      issues: ['percent: percent must be at most 100', '(root): unknown field "extra"'],
    });
  });
});
