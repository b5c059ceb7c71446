import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../cli/command-line';
import { UsageError } from '../../cli/errors';

const run = (argv: string[]) => {
  const parsed = parseCommandLine(argv);
  if (parsed.kind !== 'run') throw new Error(`expected a command, got ${parsed.kind}`);
  return parsed;
};

const usageError = (argv: string[]): UsageError => {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('parseCommandLine: valid command lines become typed commands', () => {
  it.each([
    [['status'], { name: 'status' }],
    [['health'], { name: 'health' }],
    [['set', '10'], { name: 'set', percent: 10 }],
    [['set', '12.5%', '--reason', 'step 2'], { name: 'set', percent: 12.5, reason: 'step 2' }],
    [['set', '0.01'], { name: 'set', percent: 0.01 }],
    [['set', '100'], { name: 'set', percent: 100 }],
    [['promote'], { name: 'promote' }],
    [['abort', '--reason', 'p95 above 2 s'], { name: 'abort', reason: 'p95 above 2 s' }],
    [['undo'], { name: 'undo' }],
    [
      ['flag', 'emailDelivery', 'on', '--percent', '25'],
      { name: 'flag', flag: 'emailDelivery', enabled: true, percent: 25 },
    ],
    [['flag', 'templates', 'off'], { name: 'flag', flag: 'templates', enabled: false }],
    [['kill', 'canary'], { name: 'kill', targets: { canary: true, allFlags: false, flags: [] } }],
    [
      ['kill', 'flag:emailDelivery', 'flag:templates', 'flag:emailDelivery'],
      { name: 'kill', targets: { canary: false, allFlags: false, flags: ['emailDelivery', 'templates'] } },
    ],
    [['kill', 'flags'], { name: 'kill', targets: { canary: false, allFlags: true, flags: [] } }],
    [['kill', 'off', '--reason', 'fixed'], { name: 'kill', targets: 'off', reason: 'fixed' }],
    [['audit'], { name: 'audit', limit: 20 }],
    [['audit', '--limit', '5'], { name: 'audit', limit: 5 }],
    [['audit', '--since', '24h'], { name: 'audit', limit: 20, since: { agoMs: 86_400_000 } }],
    [['audit', '--since', '30m'], { name: 'audit', limit: 20, since: { agoMs: 1_800_000 } }],
    [
      ['audit', '--since', '2026-11-25T12:00:00Z'],
      { name: 'audit', limit: 20, since: { atMs: Date.parse('2026-11-25T12:00:00Z') } },
    ],
  ])('%j → %j', (argv, command) => {
    expect(run(argv).command).toEqual(command);
  });

  it('takes global options anywhere on the line and leaves them out of the command', () => {
    const parsed = run([
      '--url',
      'http://127.0.0.1:8787',
      'set',
      '--json',
      '10',
      '--actor',
      'alice',
      '--env',
      'production',
    ]);
    expect(parsed.command).toEqual({ name: 'set', percent: 10 });
    expect(parsed.json).toBe(true);
    expect(parsed.flags).toEqual({
      url: 'http://127.0.0.1:8787',
      token: undefined,
      actor: 'alice',
      prefix: undefined,
      env: 'production',
    });
  });

  it('answers --help for the CLI and for each command instead of running it', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    const help = parseCommandLine(['set', '101', '-h']);
    expect(help.kind === 'help' && help.spec?.name).toBe('set');
  });
});

describe('parseCommandLine: bad command lines are usage errors that name the problem', () => {
  it.each([
    [[], /no command given/],
    [['deploy'], /unknown command "deploy"/],
    [['set'], /set takes <percent>, got 0/],
    [['set', '10', '20'], /set takes <percent>, got 2/],
    [['set', '101'], /percent must be at most 100/],
    [['set', '12.345'], /at most two decimals/],
    [['set', 'ten'], /percent must be a number from 0 to 100/],
    [['set', '-5'], /negative numbers are not allowed/],
    [['status', '--percent', '4'], /status takes no --percent/],
    [['status', '--bogus'], /Unknown option '--bogus'/],
    [['flag', '9lives', 'on'], /flag names are 1–64 chars/],
    [['flag', 'templates', 'maybe'], /say on or off/],
    [['flag', 'templates', 'off', '--percent', '5'], /--percent goes with on, not off/],
    [['flag', 'templates', 'on', '--percent', '250'], /percent must be at most 100/],
    [['kill'], /kill takes <target...>, got 0/],
    [['kill', 'everything'], /a kill target is canary, flags, flag:<name>, or off alone/],
    [['kill', 'canary', 'off'], /or off alone/],
    [['kill', 'flag:'], /flag names are 1–64 chars/],
    [['abort', '--reason', ''], /reason/],
    [['audit', '--limit', '0'], /limit must be at least 1/],
    [['audit', '--limit', '5000'], /limit must be at most 1000/],
    [['audit', '--since', 'yesterday'], /since must be a span like 30m/],
    [['set', '10', '--reason'], /argument missing/],
  ])('%j', (argv, message) => {
    const error = usageError(argv);
    expect(error.message).toMatch(message);
    expect(error.exitCode).toBe(2);
  });

  it('names the command whose usage line should follow the error', () => {
    expect(usageError(['flag', 'x', 'on', '--percent', 'lots']).command).toBe('flag');
  });
});
