import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runFeatureFlags } from '../../scripts/feature-flags';
import { parseCommandLine, resolveConnection } from '../../cli/command-line';
import { UsageError } from '../../cli/errors';
import { startFakeCloudflareApi } from '../support/fake-cloudflare-api/server';
import { scanDoc, TOOLS, type Invocation, type Tool } from '../support/docs-commands/invocations';
import { mapWithConcurrency, runProcess } from '../support/docs-commands/processes';
import { resolveRun, SAMPLE_VALUES } from '../support/docs-commands/samples';

// Every command line in README.md and docs/*.md that runs `npx rollout` or a launch script is
// checked against the real thing: the CLI's own parser, each script's own argument checks (a
// dry run, which runs nothing), and each command's --help. The rules for filling placeholders
// (`…`, `<name>`, `$VAR`, `URL`) are in test/support/docs-commands/samples.ts.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC_FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const scans = DOC_FILES.map((file) => scanDoc(file, readFileSync(join(ROOT, file), 'utf8')));
const invocations = scans.flatMap((scan) => scan.invocations);
const label = (run: Invocation) => `${run.source.file}:${run.source.line} ${run.source.text}`;
const cases = (runs: Invocation[]) => runs.map((run) => [label(run), run] as const);
const runsOf = (tools: readonly Tool[], usageError: boolean) =>
  invocations.filter((run) => tools.includes(run.tool) && run.documentedUsageError === usageError);
const SHELL_SCRIPTS: Tool[] = [
  'scripts/production-deploy.sh',
  'scripts/rollback.sh',
  'scripts/post-launch-check.sh',
];

// Only what a shell needs to find bash, node and awk; the doc's own variables come on top, so a
// ROLLOUT_URL in the test runner's environment cannot stand in for one the doc forgot.
/** A stand-in Cloudflare API where the production edge's one route may be detached. */
const detachApi = () =>
  startFakeCloudflareApi({
    routes: [{ id: 'r1', pattern: 'app.example.com/*', script: 'edge-rollout-production' }],
    dns: [
      { id: 'd1', name: 'app.example.com', type: 'CNAME', content: 'stable.app.example.com', proxied: true },
    ],
  });

const BASE_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
const checked = { parsed: 0, dryRuns: 0, helps: 0 };

afterAll(() => {
  console.log(
    `docs-commands: ${invocations.length} command lines in ${DOC_FILES.length} docs checked ` +
      `(${checked.parsed} by the CLI parser, ${checked.dryRuns} script dry runs, ${checked.helps} distinct --help runs)`,
  );
});

describe('reading commands out of Markdown', () => {
  it('reads an env-prefixed script call continued over lines and fills its placeholders', () => {
    const md = [
      '```sh',
      'ROLLOUT_TOKEN=… scripts/production-deploy.sh --url https://app.example.com \\',
      '  --stable-health https://s.example.com/healthz \\',
      '  --canary-health <canary-health-url> --max-error-rate 1',
      '```',
    ].join('\n');
    const [run] = scanDoc('x.md', md).invocations;
    expect(run?.tool).toBe('scripts/production-deploy.sh');
    expect(run?.source.line).toBe(2);
    const resolved = resolveRun(run!);
    expect(resolved.env).toEqual({ ROLLOUT_TOKEN: SAMPLE_VALUES.ROLLOUT_TOKEN });
    expect(resolved.argv).toEqual([
      '--url',
      'https://app.example.com',
      '--stable-health',
      'https://s.example.com/healthz',
      '--canary-health',
      SAMPLE_VALUES['canary-health'],
      '--max-error-rate',
      '1',
    ]);
  });

  it('takes console commands after the $ prompt and marks one shown failing with usage: as a rejection', () => {
    const md = [
      '```console',
      '$ npx rollout set 12.345',
      'error: percent: percent allows at most two decimals',
      'usage: npx rollout set <percent> [--reason TEXT]',
      '$ npm run rollout -- kill canary --reason "checkout errors"',
      'Kill switch ON',
      '```',
    ].join('\n');
    const runs = scanDoc('x.md', md).invocations;
    expect(runs.map((run) => [run.tool, run.documentedUsageError])).toEqual([
      ['npx rollout', true],
      ['npx rollout', false],
    ]);
    expect(resolveRun(runs[1]!).argv).toEqual(['kill', 'canary', '--reason', 'checkout errors']);
  });

  it('expands $VAR from the exports above, fills metavariables and includes optional parts', () => {
    const md = [
      '```bash',
      'export ROLLOUT_URL=https://staging.example.com',
      'export PHASE=2',
      'npx tsx scripts/feature-flags.ts --phase $PHASE [--dry-run] [--actor LABEL] # then watch',
      'npx rollout flag <name> on --percent N --reason "$WHY"',
      '```',
    ].join('\n');
    const [flags, flag] = scanDoc('x.md', md).invocations.map(resolveRun);
    expect(flags?.argv).toEqual(['--phase', '2', '--dry-run', '--actor', SAMPLE_VALUES.actor]);
    expect(flags?.env).toEqual({ ROLLOUT_URL: 'https://staging.example.com', PHASE: '2' });
    expect(flag?.argv).toEqual([
      'flag',
      SAMPLE_VALUES['flag <name>'],
      'on',
      '--percent',
      SAMPLE_VALUES.percent,
      '--reason',
      SAMPLE_VALUES.reason,
    ]);
  });

  it('ignores text blocks and comments, and reports a mention it cannot run', () => {
    const md = [
      '```text',
      'npx rollout no-such-command',
      '```',
      '```sh',
      '# npx rollout no-such-command',
      'watch -n 60 npx rollout status',
      'npx rollout status --json > status.json 2>&1 && scripts/post-launch-check.sh',
      '```',
    ].join('\n');
    const scan = scanDoc('x.md', md);
    expect(scan.unreadable.map((line) => line.source.text)).toEqual(['watch -n 60 npx rollout status']);
    expect(scan.invocations.map((run) => [run.tool, run.args.map((word) => word.text)])).toEqual([
      ['npx rollout', ['status', '--json']],
      ['scripts/post-launch-check.sh', []],
    ]);
  });

  it('reads a console block indented inside a list item, prompt and output alike', () => {
    const md = ['1. Check:', '', '   ```console', '   $ npx rollout set 101', '   usage: …', '   ```'].join(
      '\n',
    );
    const [run] = scanDoc('x.md', md).invocations;
    expect([run?.source.text, run?.documentedUsageError]).toEqual(['npx rollout set 101', true]);
  });

  it('refuses to guess a placeholder in a slot that has no sample value', () => {
    const [run] = scanDoc('x.md', '```sh\nscripts/rollback.sh <what>\n```').invocations;
    expect(() => resolveRun(run!)).toThrow(/no sample value for the placeholder "<what>"/);
  });
});

describe('commands in README.md and docs/*.md', () => {
  it('every line that mentions our CLI or scripts is one the checker can run', () => {
    const unreadable = scans.flatMap((scan) => scan.unreadable);
    expect(unreadable.map((line) => `${line.source.file}:${line.source.line} ${line.why}`)).toEqual([]);
  });

  it('the docs run every launch script, and the CLI commands of a launch and a rollback', () => {
    const tools = new Set(invocations.map((run) => run.tool));
    expect([...TOOLS].filter((tool) => !tools.has(tool))).toEqual([]);
    const commands = new Set(
      runsOf(['npx rollout'], false).map((run) => resolveRun(run).argv.find((arg) => !arg.startsWith('-'))),
    );
    const launch = ['status', 'health', 'set', 'promote', 'finalize', 'pause', 'resume', 'abort', 'undo'];
    expect([...launch, 'flag', 'kill', 'audit'].filter((name) => !commands.has(name))).toEqual([]);
  });

  it.each(cases(runsOf(['npx rollout'], false)))('%s: the CLI parser accepts it', (_, run) => {
    const { argv, env } = resolveRun(run);
    const parsed = parseCommandLine(argv);
    if (parsed.kind === 'run') {
      // The connection too: a doc must say where the API is (--url or an exported ROLLOUT_URL).
      const connection = resolveConnection(parsed.flags, env);
      if (parsed.spec.needsToken) expect(connection.token, 'no --token or ROLLOUT_TOKEN').toBeTruthy();
      expect(argv).toContain(parsed.spec.name);
    }
    checked.parsed++;
  });

  it.each(cases(runsOf(['npx rollout'], true)))(
    '%s: the CLI parser refuses it, as the doc shows',
    (_, run) => {
      expect(() => parseCommandLine(resolveRun(run).argv)).toThrow(UsageError);
      checked.parsed++;
    },
  );

  it.each(cases(runsOf(SHELL_SCRIPTS, false)))(
    '%s: the script accepts these arguments (dry run)',
    async (_, run) => {
      const { argv, env } = resolveRun(run);
      // --skip-tests/--skip-flags keep production-deploy's dry run to its own checks (no tsx).
      const extra = run.tool === 'scripts/production-deploy.sh' ? ['--skip-tests', '--skip-flags'] : [];
      // rollback.sh --detach's dry run reads the routes and DNS: a stand-in API whose zone is fine.
      const api = argv.includes('--detach') ? await detachApi() : undefined;
      const result = await runProcess('bash', [run.tool, ...argv, '--dry-run', ...extra], {
        cwd: ROOT,
        env: {
          ...BASE_ENV,
          ...env,
          ...(api ? { CLOUDFLARE_API_BASE_URL: api.baseUrl, CLOUDFLARE_API_TOKEN: api.zone.token } : {}),
        },
      }).finally(() => api?.close());
      // The dry runs of production-deploy and rollback also run their read-only checks (secrets,
      // placeholders, origins; the token, the admin API, a wrangler login), which fail offline
      // with exit 1: the arguments were accepted all the same. Bad arguments exit 2.
      const checksDryRun = run.tool === 'scripts/production-deploy.sh' || run.tool === 'scripts/rollback.sh';
      if (checksDryRun && result.code === 1 && !argv.includes('--detach'))
        expect(result.stderr, result.stderr).toMatch(/Dry run done: nothing was (run or )?changed, but/);
      else expect(result.code, result.stderr).toBe(0);
      checked.dryRuns++;
    },
  );

  it.each(cases(runsOf(['scripts/feature-flags.ts'], false)))(
    '%s: feature-flags.ts accepts these arguments (dry run)',
    async (_, run) => {
      const { argv, env } = resolveRun(run);
      let stderr = '';
      const code = await runFeatureFlags([...argv, '--dry-run'], {
        env,
        stdout: () => {},
        stderr: (text) => (stderr += text),
      });
      expect(code, stderr).toBe(0);
      checked.dryRuns++;
    },
  );

  it(
    'each distinct command exits 0 on --help and its usage names the command',
    { timeout: 60_000 },
    async () => {
      const helps = new Map<string, HelpRun>();
      for (const run of invocations) {
        const help = helpRunFor(run);
        if (help) helps.set(help.key, help);
      }
      const results = await mapWithConcurrency([...helps.values()], 3, async (help) => ({
        help,
        result: await runProcess(help.program, help.args, { cwd: ROOT, env: BASE_ENV }),
      }));
      for (const { help, result } of results) {
        expect(result.code, `${help.key} --help: ${result.stderr}`).toBe(0);
        expect(result.stdout, `${help.key} --help`).toContain(help.names);
      }
      checked.helps = results.length;
    },
  );
});

/** How to ask one of our commands for its help, and what that help must name. */
interface HelpRun {
  key: string;
  program: string;
  args: string[];
  names: string;
}

function helpRunFor(run: Invocation): HelpRun | undefined {
  if (run.tool === 'scripts/feature-flags.ts') {
    const tsx = join(ROOT, 'node_modules/.bin/tsx');
    return { key: run.tool, program: tsx, args: [run.tool, '--help'], names: `npx tsx ${run.tool}` };
  }
  if (run.tool !== 'npx rollout')
    return { key: run.tool, program: 'bash', args: [run.tool, '--help'], names: `Usage: ${run.tool}` };
  let name: string;
  try {
    // `<argv> --help` stops at the command name, so this finds it even for a refused line.
    const parsed = parseCommandLine([...resolveRun(run).argv, '--help']);
    name = parsed.kind === 'help' ? (parsed.spec?.name ?? '') : '';
  } catch {
    // An unknown command: its parser test above already fails for it.
    return undefined;
  }
  return {
    key: `npx rollout ${name}`,
    program: process.execPath,
    args: ['bin/rollout.mjs', ...(name ? [name] : []), '--help'],
    names: `npx rollout ${name || '<command>'}`,
  };
}
