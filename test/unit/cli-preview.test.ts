import { describe, expect, it } from 'vitest';
import { previewBodyFor } from '../../cli/preview';
import { runCli } from '../../cli/run-cli';
import { EXIT_CODES } from '../../cli/errors';
import { RolloutConfigSchema } from '../../src/config/config-schema';

const config = (percent: number, version: number) =>
  RolloutConfigSchema.parse({
    version,
    rollout: { percent, salt: 'launch-1', state: percent > 0 ? 'ramping' : 'idle' },
  });
const kill = { canary: false, allFlags: false, flags: [], raw: null, sources: { api: null, hand: null } };
const replica = { committedVersion: 4, replicatedVersion: 4, lagging: false, failedAttempts: 0 };

// The admin API as the CLI sees it: /preview answers a dry run, /percent writes.
function fakeApi(movesVisitors = true, stale = false) {
  const calls: string[] = [];
  // The If-Match header of each write (null: none).
  const ifMatch: (string | null)[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    calls.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    if (!url.pathname.endsWith('/preview') && !url.pathname.endsWith('/state')) {
      ifMatch.push(new Headers(init?.headers).get('if-match'));
      // Someone else wrote version 5 between the preview and the answer.
      if (stale) return Response.json({ error: 'If-Match 4 is not the current version 5' }, { status: 412 });
    }
    if (url.pathname.endsWith('/state'))
      return Response.json({
        version: 4,
        state: 'ramping',
        percent: 10,
        config: config(10, 4),
        kill,
        source: 'kv',
        replica: { ...replica, kvVersion: 4 },
        guard: null,
      });
    if (url.pathname.endsWith('/preview'))
      return Response.json({
        currentVersion: 4,
        version: 5,
        changed: true,
        config: config(20, 5),
        kill: null,
        preview: {
          movesVisitors,
          canaryShare: { before: 0.1, after: 0.2 },
          moves: [],
          sample: { size: 40000, seed: 'x' },
          summary: [
            movesVisitors
              ? '10 % of visitors move from stable to canary (exact).'
              : 'No visitor changes cohort or flag value.',
          ],
        },
      });
    return Response.json({ version: 5, config: config(20, 5), changed: true, kill, replica });
  }) as typeof globalThis.fetch;
  return { fetch, calls, ifMatch };
}

async function run(
  argv: string[],
  api: ReturnType<typeof fakeApi>,
  terminal?: { answer: string; questions: string[] },
) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: { ROLLOUT_URL: 'http://127.0.0.1:9', ROLLOUT_TOKEN: 'cli-preview-token' },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    fetch: api.fetch,
    interactive: terminal !== undefined,
    ask: async (question) => {
      terminal?.questions.push(question);
      return terminal?.answer ?? '';
    },
  });
  return { code, stdout, stderr };
}

describe('the preview before a write', () => {
  it('on a terminal, shows what the write moves and sends it only after a yes', async () => {
    const api = fakeApi();
    const terminal = { answer: 'y', questions: [] as string[] };
    const result = await run(['set', '20'], api, terminal);
    expect(result.code).toBe(EXIT_CODES.ok);
    expect(result.stderr).toBe(
      'Preview: version 4 → 5.\n  10 % of visitors move from stable to canary (exact).\n',
    );
    expect(terminal.questions).toEqual(['Send this change? [y/N] ']);
    expect(api.calls).toEqual(['POST /__rollout/preview', 'PUT /__rollout/percent']);
    expect(result.stdout).toMatch(/^Canary at 20 %/);
  });

  it('on a terminal, anything but yes sends nothing and exits 4', async () => {
    const api = fakeApi();
    const result = await run(['set', '20'], api, { answer: '', questions: [] });
    expect(result.code).toBe(EXIT_CODES.declined);
    expect(result.stderr).toContain('Not confirmed: nothing was sent.');
    expect(api.calls).toEqual(['POST /__rollout/preview']);
  });

  it('--yes shows the preview and sends without asking', async () => {
    const api = fakeApi();
    const terminal = { answer: 'n', questions: [] as string[] };
    const result = await run(['set', '20', '--yes'], api, terminal);
    expect(result.code).toBe(EXIT_CODES.ok);
    expect(terminal.questions).toEqual([]);
    expect(api.calls).toEqual(['POST /__rollout/preview', 'PUT /__rollout/percent']);
  });

  it('does not ask when the write moves nobody (pause)', async () => {
    const api = fakeApi(false);
    const terminal = { answer: 'n', questions: [] as string[] };
    expect((await run(['pause'], api, terminal)).code).toBe(EXIT_CODES.ok);
    expect(terminal.questions).toEqual([]);
    expect(api.calls).toEqual(['POST /__rollout/preview', 'POST /__rollout/pause']);
  });

  it('without a terminal (scripts, rollback.sh), sends at once as before: no preview, no question', async () => {
    const api = fakeApi();
    const result = await run(['abort', '--reason', 'p95'], api);
    expect(result.code).toBe(EXIT_CODES.ok);
    expect(result.stderr).toBe('');
    expect(api.calls).toEqual(['POST /__rollout/abort']);
  });

  it('--preview prints the preview on stdout and sends nothing, with or without a terminal', async () => {
    const api = fakeApi();
    const result = await run(['flag', 'templates', 'on', '--percent', '30', '--preview'], api);
    expect(result.code).toBe(EXIT_CODES.ok);
    expect(result.stdout).toContain('10 % of visitors move from stable to canary (exact).');
    expect(api.calls).toEqual(['POST /__rollout/preview']);
  });

  it('maps each write to the preview body of the same change', () => {
    expect(previewBodyFor({ name: 'set', percent: 12.5 })).toEqual({ percent: 12.5 });
    expect(previewBodyFor({ name: 'abort', reason: 'x' })).toEqual({ transition: 'abort' });
    // Reads move nobody: neither previewed nor asked.
    for (const name of ['status', 'health', 'verdict'] as const)
      expect(previewBodyFor({ name })).toBeUndefined();
    expect(previewBodyFor({ name: 'flag', flag: 'templates', enabled: false })).toEqual({
      flag: 'templates',
      enabled: false,
    });
    expect(previewBodyFor({ name: 'kill', targets: 'off' })).toEqual({ kill: 'off' });
    expect(
      previewBodyFor(
        { name: 'kill', targets: { canary: false, allFlags: false, flags: ['templates'] } },
        { canary: true, allFlags: false, flags: ['emailDelivery'] },
      ),
    ).toEqual({ kill: { canary: true, flags: ['emailDelivery', 'templates'] } });
    expect(previewBodyFor({ name: 'status' })).toBeUndefined();
  });

  it('sends the confirmed write with If-Match: the version the preview was computed on (asked, --yes, or moving nobody)', async () => {
    for (const [argv, answer, moves] of [
      [['set', '20'], 'y', true],
      [['flag', 'templates', 'on', '--percent', '30', '--yes'], 'n', true],
      [['kill', 'flag:templates', '--yes'], 'n', true],
      [['pause'], 'n', false],
    ] as const) {
      const api = fakeApi(moves);
      const result = await run([...argv], api, { answer, questions: [] });
      expect(result.code, argv.join(' ')).toBe(EXIT_CODES.ok);
      expect(api.ifMatch, argv.join(' ')).toEqual(['"4"']);
    }
  });

  it('without a preview (a script, or a preview that failed), sends the write without If-Match, as before', async () => {
    const script = fakeApi();
    expect((await run(['abort', '--reason', 'p95'], script)).code).toBe(EXIT_CODES.ok);
    expect(script.ifMatch).toEqual([null]);
  });

  it('with --yes and no terminal, reads the version from /state and sends it as If-Match (issue 21 L4)', async () => {
    for (const argv of [
      ['set', '20', '--yes'],
      ['abort', '--yes'],
      ['flag', 'templates', 'off', '-y'],
      ['kill', 'off', '--yes'],
    ]) {
      const script = fakeApi();
      expect((await run(argv, script)).code, argv.join(' ')).toBe(EXIT_CODES.ok);
      expect(script.calls[0], argv.join(' ')).toBe('GET /__rollout/state');
      expect(script.ifMatch, argv.join(' ')).toEqual(['"4"']);
    }
  });

  it('undo always names the version it undoes: read from /state without a terminal, from the preview on one', async () => {
    const script = fakeApi();
    expect((await run(['undo'], script)).code).toBe(EXIT_CODES.ok);
    expect(script.calls).toEqual(['GET /__rollout/state', 'POST /__rollout/undo']);
    expect(script.ifMatch).toEqual(['"4"']);
    const person = fakeApi();
    expect((await run(['undo'], person, { answer: 'y', questions: [] })).code).toBe(EXIT_CODES.ok);
    expect(person.calls).toEqual(['POST /__rollout/preview', 'POST /__rollout/undo']);
    expect(person.ifMatch).toEqual(['"4"']);
  });

  it('when the rollout moved on after /state was read, says so and exits 1 (412)', async () => {
    const api = fakeApi(true, true);
    const result = await run(['undo'], api);
    expect(result.code).toBe(EXIT_CODES.api);
    expect(result.stderr).toContain(
      'The rollout changed after version 4 was read: nothing was written. Check `npx rollout status`, then run the command again.',
    );
  });

  it('when the rollout changed between the preview and the yes, says so and exits 1: the API refused the write (412)', async () => {
    const api = fakeApi(true, true);
    const result = await run(['set', '20'], api, { answer: 'y', questions: [] });
    expect(result.code).toBe(EXIT_CODES.api);
    expect(api.calls).toEqual(['POST /__rollout/preview', 'PUT /__rollout/percent']);
    expect(api.ifMatch).toEqual(['"4"']);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      'PUT /__rollout/percent answered 412: If-Match 4 is not the current version 5',
    );
    expect(result.stderr).toContain(
      'The rollout changed since the preview (computed on version 4): nothing was written. Run the command again to see a preview of the current state.',
    );
  });
});
