import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/run-cli';

// A loopback stand-in for the admin API: real HTTP, answers scripted per test, requests recorded.
interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}
type Answer = { status: number; body?: unknown; headers?: Record<string, string>; hang?: boolean };

let server: Server;
let url: string;
let answers: Map<string, Answer | ((request: Recorded) => Answer)>;
let requests: Recorded[];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const request = {
      method: req.method!,
      url: req.url!,
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    requests.push(request);
    const scripted = answers.get(`${req.method} ${req.url!.replace(/\?.*$/, '')}`);
    const answer =
      typeof scripted === 'function'
        ? scripted(request)
        : (scripted ?? { status: 404, body: { error: 'not found' } });
    if (answer.hang) return;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  answers = new Map();
  requests = [];
});

const TOKEN = 'unit-test-token-0123456789abcdef';

async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: { ROLLOUT_URL: url, ROLLOUT_TOKEN: TOKEN, ...env },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    now: () => Date.parse('2026-11-25T12:00:00.000Z'),
    timeoutMs: 500,
  });
  return { code, stdout, stderr };
}

const config = (state: string, percent: number, flags: object = {}) => ({
  version: 4,
  rollout: { percent, salt: 's', state },
  flags,
});
const REPLICA = { committedVersion: 4, replicatedVersion: 4, lagging: false, failedAttempts: 0 };
const killState = (kill: { raw?: string | null; [field: string]: unknown } = {}) => ({
  canary: false,
  allFlags: false,
  flags: [],
  raw: null,
  sources: { api: kill.raw ?? null, hand: null },
  ...kill,
});
const written = (state: string, percent: number, flags: object = {}) => ({
  status: 200,
  body: {
    version: 4,
    config: config(state, percent, flags),
    changed: true,
    kill: killState(),
    replica: REPLICA,
  },
});
const stateBody = (kill: { raw?: string | null; [field: string]: unknown }) => ({
  status: 200,
  body: {
    version: 4,
    state: 'ramping',
    percent: 10,
    config: config('ramping', 10),
    kill: killState(kill),
    source: 'kv',
    replica: { ...REPLICA, kvVersion: 4 },
    guard: null,
  },
});

describe('runCli against a loopback admin API', () => {
  it('sends set with the bearer token, the actor and the reason, and confirms the new version', async () => {
    // Without a terminal, set reads the state first: a ramp-down needs --yes (see below).
    answers.set('GET /__rollout/state', stateBody({}));
    answers.set('PUT /__rollout/percent', written('ramping', 10));
    const { code, stdout } = await cli(['set', '10', '--actor', 'alice', '--reason', 'step 1']);
    expect(code).toBe(0);
    expect(stdout).toBe('Canary at 10 %: state ramping, config version 4.\n');
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /__rollout/state',
      'PUT /__rollout/percent',
    ]);
    expect(requests[1]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(requests[1]!.headers['x-rollout-actor']).toBe('alice');
    expect(requests[1]!.body).toEqual({ percent: 10, reason: 'step 1' });
  });

  it('prints the API answer unchanged with --json', async () => {
    const answer = written('promoted', 100);
    answers.set('POST /__rollout/promote', answer);
    const { code, stdout } = await cli(['promote', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(answer.body);
    expect(requests[0]!.body).toEqual({});
  });

  it('sends flag changes to /flags/:name with enabled and percent', async () => {
    answers.set(
      'PUT /__rollout/flags/emailDelivery',
      written('ramping', 10, { emailDelivery: { enabled: true, percent: 25 } }),
    );
    const { code, stdout } = await cli(['flag', 'emailDelivery', 'on', '--percent', '25']);
    expect(code).toBe(0);
    expect(requests[0]!.body).toEqual({ enabled: true, percent: 25 });
    expect(stdout).toBe('Flag emailDelivery on for 25 % of visitors (config version 4).\n');
  });

  it('adds a kill to what is already killed, since PUT /kill replaces the whole switch', async () => {
    answers.set(
      'GET /__rollout/state',
      stateBody({ canary: true, flags: ['templates'], raw: 'canary flag:templates' }),
    );
    answers.set('PUT /__rollout/kill', (request) => ({
      status: 200,
      body: {
        version: 5,
        config: config('ramping', 10),
        changed: true,
        kill: killState({ ...(request.body as object), raw: 'x' }),
        replica: REPLICA,
      },
    }));
    const { code, stdout } = await cli(['kill', 'flag:emailDelivery']);
    expect(code).toBe(0);
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /__rollout/state',
      'PUT /__rollout/kill',
    ]);
    expect(requests[1]!.body).toEqual({
      canary: true,
      allFlags: false,
      flags: ['templates', 'emailDelivery'],
    });
    expect(stdout).toContain(
      'canary stopped (everyone on stable); flags forced off: templates, emailDelivery',
    );
  });

  it('lifts the kill switch with DELETE /kill', async () => {
    answers.set('DELETE /__rollout/kill', {
      status: 200,
      body: { version: 4, config: config('ramping', 10), changed: true, kill: killState(), replica: REPLICA },
    });
    const { code, stdout } = await cli(['kill', 'off', '--reason', 'fixed']);
    expect(code).toBe(0);
    expect(requests[0]!.body).toEqual({ reason: 'fixed' });
    expect(stdout).toContain('Kill switch off');
  });

  it('exits 1 with the API’s message and issues on a 400', async () => {
    answers.set('GET /__rollout/state', stateBody({}));
    answers.set('PUT /__rollout/percent', {
      status: 400,
      body: { error: 'invalid body', issues: ['percent: too big'] },
    });
    const { code, stdout, stderr } = await cli(['set', '10']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('error: PUT /__rollout/percent answered 400: invalid body\n  percent: too big\n');
  });

  it('exits 1 on an illegal transition (409) and prints no KV fallback for it', async () => {
    answers.set('POST /__rollout/abort', {
      status: 409,
      body: { error: 'cannot abort: the rollout is idle (no canary is live)' },
    });
    const { code, stderr } = await cli(['abort']);
    expect(code).toBe(1);
    expect(stderr).toContain('answered 409: cannot abort: the rollout is idle');
    expect(stderr).not.toContain('wrangler');
  });

  it('prints the KV fallback command (with --env) when the API answers 5xx to a kill', async () => {
    answers.set('GET /__rollout/state', {
      status: 503,
      body: { error: 'admin API temporarily unavailable' },
      headers: { 'retry-after': '5' },
    });
    const { code, stderr } = await cli(['kill', 'canary', '--env', 'production']);
    expect(code).toBe(1);
    expect(stderr).toContain('answered 503: admin API temporarily unavailable');
    expect(stderr).toContain('Retry after 5 s.');
    expect(stderr).toContain(
      '  npx wrangler kv key put --binding=ROLLOUT kill "canary" --remote --env production\n',
    );
  });

  it('exits 3 and prints the KV fallback when the API cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { code, stderr } = await cli(['abort'], { ROLLOUT_URL: `http://127.0.0.1:${port}` });
    expect(code).toBe(3);
    expect(stderr).toContain(`cannot reach the admin API at http://127.0.0.1:${port}: connect ECONNREFUSED`);
    expect(stderr).toContain('npx wrangler kv key put --binding=ROLLOUT kill "canary" --remote');
    expect(stderr).toContain('npx rollout kill off');
  });

  it('exits 3 when the API does not answer in time', async () => {
    answers.set('GET /__rollout/state', { status: 200, hang: true });
    const { code, stderr } = await cli(['status']);
    expect(code).toBe(3);
    expect(stderr).toContain('no answer in time');
  });

  it('exits 1 when a 2xx answer is not what the route promises', async () => {
    answers.set('GET /__rollout/state', { status: 200, body: { hello: 'world' } });
    const { code, stderr } = await cli(['status']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/the answer to GET \/__rollout\/state is not what the admin API sends: version:/);
  });

  it('shows the start of a non-JSON error page', async () => {
    answers.set('POST /__rollout/pause', { status: 502, body: '<html><body>Bad gateway</body></html>' });
    const { code, stderr } = await cli(['pause']);
    expect(code).toBe(1);
    expect(stderr).toContain('answered 502: <html><body>Bad gateway</body></html>');
  });

  it('never prints the token, even when the API repeats it', async () => {
    answers.set('GET /__rollout/state', { status: 401, body: { error: `token ${TOKEN} is wrong` } });
    const { code, stderr, stdout } = await cli(['status']);
    expect(code).toBe(1);
    expect(stderr).toContain('token *** is wrong');
    expect(stderr + stdout).not.toContain(TOKEN);
  });

  it('refuses to run without a token (exit 2), sending nothing, except for health', async () => {
    const { code, stderr } = await cli(['status'], { ROLLOUT_TOKEN: '' });
    expect(code).toBe(2);
    expect(stderr).toContain('no admin token: set ROLLOUT_TOKEN');
    expect(requests).toHaveLength(0);
    answers.set('GET /__rollout/health', { status: 200, body: { ok: true } });
    expect((await cli(['health'], { ROLLOUT_TOKEN: '' })).code).toBe(0);
    expect(requests[0]!.headers.authorization).toBeUndefined();
  });

  it('sends nothing on a usage error and shows the command’s usage line', async () => {
    const { code, stderr } = await cli(['set', '150']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'error: percent: percent must be at most 100\nusage: npx rollout set <percent> [--reason TEXT]\n',
    );
    expect(requests).toHaveLength(0);
  });

  it('pages through the audit log for --since and stops at the first older entry', async () => {
    const entry = (id: string, at: string) => ({
      id,
      at,
      actor: 'token',
      action: 'pause',
      before: {},
      after: {},
      version: 1,
    });
    answers.set('GET /__rollout/audit', (request) =>
      request.url.includes('cursor=page2')
        ? {
            status: 200,
            body: {
              entries: [entry('c', '2026-11-24T13:00:00.000Z'), entry('d', '2026-11-24T11:00:00.000Z')],
              cursor: 'page3',
            },
          }
        : {
            status: 200,
            body: {
              entries: [entry('a', '2026-11-25T11:00:00.000Z'), entry('b', '2026-11-25T01:00:00.000Z')],
              cursor: 'page2',
            },
          },
    );
    const { code, stdout } = await cli(['audit', '--since', '24h', '--limit', '150', '--json']);
    expect(code).toBe(0);
    const page = JSON.parse(stdout) as { entries: { id: string }[]; cursor: string | null };
    expect(page.entries.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(page.cursor).toBeNull();
    expect(requests.map((r) => r.url)).toEqual([
      '/__rollout/audit?limit=100',
      '/__rollout/audit?limit=100&cursor=page2',
    ]);
  });

  it('prints help for the CLI and for a command with exit 0', async () => {
    const general = await cli(['--help']);
    expect(general.code).toBe(0);
    expect(general.stdout).toContain('Exit codes:');
    expect(general.stdout).toContain('3  the admin API could not be reached');
    const command = await cli(['flag', '--help']);
    expect(command.stdout).toContain(
      'npx rollout flag <name> on|off [--percent N | --weights V=N,V=N [--rule I]] [--create] [--reason TEXT]',
    );
    expect(requests).toHaveLength(0);
  });
});

describe('runCli keeps ops from surprising themselves', () => {
  const at = (percent: number) => {
    const answer = stateBody({});
    return { ...answer, body: { ...answer.body, percent, config: config('ramping', percent) } };
  };

  it('refuses a flag name the config does not have and says how to create one on purpose', async () => {
    answers.set('PUT /__rollout/flags/nosuchflag', {
      status: 400,
      body: {
        error: 'unknown flag',
        issues: [
          'flag "nosuchflag" is not in the config (known: fileStorage, templates); send "create": true to add it',
        ],
      },
    });
    const { code, stdout, stderr } = await cli(['flag', 'nosuchflag', 'on']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('(known: fileStorage, templates)');
    expect(stderr).toContain('To add it: npx rollout flag nosuchflag on --create\n');
    expect(requests[0]!.body).toEqual({ enabled: true });
  });

  it('sends create only with --create', async () => {
    answers.set(
      'PUT /__rollout/flags/newFeature',
      written('ramping', 10, { newFeature: { enabled: true, percent: 5 } }),
    );
    const { code, stdout } = await cli(['flag', 'newFeature', 'on', '--percent', '5', '--create']);
    expect(code).toBe(0);
    expect(requests[0]!.body).toEqual({ enabled: true, percent: 5, create: true });
    expect(stdout).toBe('Flag newFeature on for 5 % of visitors (config version 4).\n');
  });

  it('says "no change" for a write the API did not need to make', async () => {
    answers.set('GET /__rollout/state', at(10));
    answers.set('PUT /__rollout/percent', {
      ...written('ramping', 10),
      body: { ...written('ramping', 10).body, changed: false },
    });
    const { code, stdout } = await cli(['set', '10']);
    expect(code).toBe(0);
    expect(stdout).toBe(
      'No change: that is already in force (state ramping, canary at 10 %, config version 4).\n',
    );
  });

  it('without a terminal, refuses a ramp-down without --yes (exit 2), saying what it would move', async () => {
    answers.set('GET /__rollout/state', at(50));
    const { code, stdout, stderr } = await cli(['set', '30']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'error: set 30 moves 20 % of visitors from canary back to stable (canary 50 % → 30 %).\n' +
        'Nothing was sent. Confirm it on a terminal, or pass --yes to confirm it in advance.\n',
    );
    expect(requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('without a terminal, sends a ramp-down with --yes and a ramp-up as it is', async () => {
    answers.set('GET /__rollout/state', at(50));
    answers.set('PUT /__rollout/percent', (request) =>
      written('ramping', (request.body as { percent: number }).percent),
    );
    expect((await cli(['set', '30', '--yes'])).code).toBe(0);
    expect((await cli(['set', '70'])).code).toBe(0);
    expect(requests.filter((r) => r.method === 'PUT').map((r) => r.body)).toEqual([
      { percent: 30 },
      { percent: 70 },
    ]);
  });

  it('on a terminal, a ramp-down goes to the preview and its question instead', async () => {
    answers.set('GET /__rollout/state', at(50));
    answers.set('POST /__rollout/preview', { status: 503, body: { error: 'not here' } });
    const questions: string[] = [];
    const code = await runCli(['set', '30'], {
      env: { ROLLOUT_URL: url, ROLLOUT_TOKEN: TOKEN },
      stdout: () => {},
      stderr: () => {},
      interactive: true,
      ask: async (question) => (questions.push(question), 'n'),
    });
    expect(code).toBe(4);
    expect(questions).toHaveLength(1);
    expect(requests.some((r) => r.method === 'PUT')).toBe(false);
  });

  it('prints the KV fallback with a placeholder environment, and says to name it, when none is set', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { code, stderr } = await cli(['kill', 'canary'], { ROLLOUT_URL: `http://127.0.0.1:${port}` });
    expect(code).toBe(3);
    expect(stderr).toContain(
      'npx wrangler kv key put --binding=ROLLOUT kill "canary" --remote --env <environment>\n',
    );
    expect(stderr).toContain('Replace <environment> with the wrangler environment');
    expect(stderr).not.toMatch(/--remote\n/);
  });
});
