import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeIssues } from '../src/config/parse-config';
import { resolveConnection } from './command-line';
import { ApiError, EXIT_CODES, isCliError, UsageError, type ExitCode } from './errors';
import { currentVersion, GateStatusSchema, judgeGate } from './gate';
import { createOverrideLink, writeLaunchConfig } from './launch-config';
import { readLaunchPlan } from './launch-plan';
import {
  opsCommandHelp,
  opsSpecOf,
  parseOpsCommandLine,
  type FileOptions,
  type OpsInput,
  type OpsName,
} from './ops-command-line';
import { runPreflight, runWrangler as spawnWrangler, secretsToPush, type RunWrangler } from './preflight';

/**
 * The launch commands of `npx rollout`: the logic of scripts/production-deploy.sh, typed and
 * tested, so that the script keeps only its phases. Their command line (options, schemas, help)
 * is ops-command-line.ts; here is what each does. Each reads stdin where the script pipes JSON
 * in. The exit codes are the CLI's (docs/CLI.md).
 */

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What a launch command needs from its process; the defaults are the real ones. */
export interface OpsRuntime {
  env: Readonly<Record<string, string | undefined>>;
  stdout(text: string): void;
  stderr(text: string): void;
  fetch?: typeof fetch;
  /** All of stdin, for the commands that judge JSON piped in. */
  readStdin?: () => Promise<string>;
  runWrangler?: RunWrangler;
}

type Runner<N extends OpsName> = (
  input: OpsInput<N>,
  runtime: OpsRuntime,
  out: (text: string) => void,
) => Promise<ExitCode>;

/** The files `preflight` and `secrets-bulk` read: relative paths from the working directory. */
function files(input: FileOptions) {
  const at = (path: string | undefined, fallback: string) => resolve(path ?? join(REPO_ROOT, fallback));
  return {
    env: input.env,
    edgeConfig: input.config === undefined ? undefined : resolve(input.config),
    defaultEdgeConfig: join(REPO_ROOT, 'wrangler.toml'),
    controlConfig: at(input['control-config'], 'worker/control/wrangler.toml'),
    secretsFile: at(input['secrets-file'], '.env.production'),
    secretsExample: at(input['secrets-example'], '.env.production.example'),
  };
}

async function readAllStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

function apiConnection(url: string | undefined, env: OpsRuntime['env']) {
  const connection = resolveConnection({ url }, env);
  if (!connection.token) throw new UsageError('no admin token: set ROLLOUT_TOKEN');
  return connection;
}

const RUNNERS: { [N in OpsName]: Runner<N> } = {
  async preflight(input, runtime, out) {
    const report = await runPreflight(files(input), runtime.runWrangler ?? spawnWrangler);
    for (const line of report.lines) out(line);
    return report.failures.length ? EXIT_CODES.api : EXIT_CODES.ok;
  },
  async 'secrets-bulk'(input, _runtime, out) {
    const chosen = secretsToPush(files(input), input.plane);
    out(input.names ? chosen.names.join(' ') : JSON.stringify(chosen.values));
    return EXIT_CODES.ok;
  },
  async gate(input, runtime, out) {
    const text = await (runtime.readStdin ?? readAllStdin)();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const status = GateStatusSchema.safeParse(json);
    if (!status.success) {
      const why = json === undefined ? 'not JSON' : describeIssues(status.error).join('; ');
      out(`the rollout status is unreadable (${why})`);
      return EXIT_CODES.api;
    }
    const judgement = judgeGate(status.data, {
      stepStartedMs: input['step-started-ms'],
      allowNoVerdict: input['allow-no-verdict'],
      ...(input['max-error-rate'] === undefined ? {} : { maxErrorRatePercent: input['max-error-rate'] }),
    });
    out(judgement.pass ? judgement.summary : judgement.problems.join('; '));
    return judgement.pass ? EXIT_CODES.ok : EXIT_CODES.api;
  },
  async 'current-version'(_input, runtime, out) {
    const version = currentVersion(await (runtime.readStdin ?? readAllStdin)());
    if (version) out(version);
    return EXIT_CODES.ok;
  },
  async 'launch-config'(input, runtime, out) {
    const plan = readLaunchPlan(input.file);
    const connection = apiConnection(input.url, runtime.env);
    await writeLaunchConfig(plan, { connection, fetch: runtime.fetch, out }, { dryRun: input['dry-run'] });
    return EXIT_CODES.ok;
  },
  async 'override-link'(input, runtime, out) {
    const connection = apiConnection(input.url, runtime.env);
    const link = await createOverrideLink({ connection, fetch: runtime.fetch }, input.cohort, input.ttl);
    out(`${link.url}  (${input.cohort}, until ${link.expiresAt})`);
    return EXIT_CODES.ok;
  },
};

/**
 * Runs one launch command and resolves to its exit code; never throws. The token never reaches
 * the output, except in `secrets-bulk`'s JSON, which is only ever piped into wrangler.
 *
 * @example
 * await runOpsCommand(['gate', '--step-started-ms', '0'], { env, stdout, stderr, readStdin: async () => status });
 */
export async function runOpsCommand(argv: readonly string[], runtime: OpsRuntime): Promise<ExitCode> {
  const spec = opsSpecOf(argv);
  const token = runtime.env.ROLLOUT_TOKEN;
  const scrub = (text: string) => (token && token.length >= 4 ? text.split(token).join('***') : text);
  const out = (text: string) => runtime.stdout(`${spec.rawOutput ? text : scrub(text)}\n`);
  const err = (text: string) => runtime.stderr(`${scrub(text)}\n`);
  try {
    const parsed = parseOpsCommandLine(argv);
    if (parsed.help) return (out(opsCommandHelp(parsed.spec)), EXIT_CODES.ok);
    const run = RUNNERS[parsed.spec.name] as Runner<OpsName>;
    return await run(parsed.input as never, runtime, out);
  } catch (error) {
    if (!isCliError(error)) {
      err(`error: unexpected failure: ${(error as Error)?.message ?? String(error)}`);
      return EXIT_CODES.api;
    }
    err(`error: ${error.message}`);
    if (error instanceof ApiError) for (const issue of error.issues) err(`  ${issue}`);
    if (error instanceof UsageError) err(`usage: npx rollout ${spec.usage}`);
    return error.exitCode;
  }
}
