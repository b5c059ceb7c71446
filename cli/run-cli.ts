import { DETACH_COMMAND, runDetach } from './detach';
import { KILL_SWITCH_KEY } from '../src/config/config-schema';
import { killSwitchText } from '../src/admin/kill-switch-text';
import { parseKillSwitch } from '../src/config/config-schema';
import { createAdminClient, readAudit, type AdminClient } from './admin-client';
import {
  commandHelp,
  generalHelp,
  parseCommandLine,
  resolveConnection,
  usageLine,
  type Connection,
} from './command-line';
import { COMMAND_SPECS, type CliCommand, type KillTargets } from './commands';
import { unknownFlagHint } from './did-you-mean';
import { ApiError, EXIT_CODES, isCliError, UnreachableError, UsageError, type ExitCode } from './errors';
import { formatAudit, formatStatus, formatWriteResult } from './format-output';
import { isOpsCommand } from './ops-command-line';
import { runOpsCommand } from './ops-commands';
import type { RunWrangler } from './preflight';
import { confirmWrite, previewBodyFor } from './preview';
import { unconfirmedRampDown } from './ramp-down';
import { runTokenCommand } from './token-command';
import { formatVerdict } from './verdict';

/** Where the CLI reads its settings and writes its output; injected so tests can run it in-process. */
export interface CliRuntime {
  env: Readonly<Record<string, string | undefined>>;
  stdout(text: string): void;
  stderr(text: string): void;
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
  /** Whether a person can answer a question (stdin and stderr are terminals). */
  interactive?: boolean;
  /** Asks on the terminal; used only when `interactive`. */
  ask?: (question: string) => Promise<string>;
  /** All of stdin, for the launch commands that judge JSON piped in (`gate`). */
  readStdin?: () => Promise<string>;
  /** Runs `wrangler` (`preflight`); the real one on PATH by default. */
  runWrangler?: RunWrangler;
}

/**
 * Runs `npx rollout` once and resolves to its exit code (EXIT_CODES in errors.ts). Never throws.
 * The token never reaches the output: every line is scrubbed of it before it is written.
 */
export async function runCli(argv: readonly string[], runtime: CliRuntime): Promise<ExitCode> {
  // Offline: makes a token and its ADMIN_TOKENS line; needs no URL and sends nothing.
  if (argv[0] === 'token') return runTokenCommand(argv.slice(1), runtime);
  // The launch commands (preflight, gate, …) read files and stdin, not only the admin API.
  if (isOpsCommand(argv)) return runOpsCommand(argv, runtime);
  // Not an admin API command: it talks to the Cloudflare API (cli/detach.ts).
  if (argv[0] === DETACH_COMMAND) return runDetach(argv.slice(1), runtime);
  let connection: Connection | undefined;
  let command: CliCommand | undefined;
  // The version the confirmed preview was computed on, sent as If-Match with the write.
  let previewVersion: number | undefined;
  // Without a preview: the version read from /state for `--yes` and undo, sent as If-Match.
  let readVersion: number | undefined;
  const scrub = (text: string) =>
    connection?.token && connection.token.length >= 4 ? text.split(connection.token).join('***') : text;
  const out = (text: string) => runtime.stdout(`${scrub(text)}\n`);
  const err = (text: string) => runtime.stderr(`${scrub(text)}\n`);
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.kind === 'help') {
      out(parsed.spec ? commandHelp(parsed.spec) : generalHelp());
      return EXIT_CODES.ok;
    }
    // Dispatched at the top already; this narrows the type for what follows.
    if (parsed.kind === 'ops') return await runOpsCommand(argv, runtime);
    command = parsed.command;
    connection = resolveConnection(parsed.flags, runtime.env);
    if (parsed.spec.needsToken && !connection.token) {
      throw new UsageError('no admin token: set ROLLOUT_TOKEN (or pass --token)');
    }
    const client = createAdminClient({ connection, fetch: runtime.fetch, timeoutMs: runtime.timeoutMs });
    const refusal = await unconfirmedRampDown(command, client, {
      yes: parsed.yes,
      interactive: runtime.interactive ?? false,
      previewOnly: parsed.preview,
    });
    if (refusal) {
      for (const line of refusal) err(line);
      return EXIT_CODES.usage;
    }
    const confirmed = await confirmWrite(command, {
      client,
      connection,
      fetch: runtime.fetch,
      options: {
        yes: parsed.yes,
        previewOnly: parsed.preview,
        interactive: runtime.interactive ?? false,
        ask: runtime.ask,
      },
      out,
      err,
    });
    if (confirmed.decision === 'stop') return EXIT_CODES.ok;
    if (confirmed.decision === 'declined') {
      err('Not confirmed: nothing was sent.');
      return EXIT_CODES.declined;
    }
    previewVersion = confirmed.previewVersion;
    readVersion =
      previewVersion === undefined ? await versionToMatch(command, client, parsed.yes) : undefined;
    out(
      await runCommand(command, client, {
        json: parsed.json,
        nowMs: (runtime.now ?? Date.now)(),
        ifMatch: previewVersion ?? readVersion,
      }),
    );
    return EXIT_CODES.ok;
  } catch (error) {
    return reportFailure(error, { err, command, env: connection?.env, previewVersion, readVersion });
  }
}

/**
 * The version a write sent without a preview names in `If-Match`: with `--yes` (confirmed in
 * advance, so it must still not land on a version nobody saw) and always for `undo` (the API
 * refuses an undo without one, so that two undos at once go back one version, not two), the
 * version `GET /state` answers now. Other writes from scripts go out as before, without.
 */
async function versionToMatch(
  command: CliCommand,
  client: AdminClient,
  yes: boolean,
): Promise<number | undefined> {
  if (previewBodyFor(command) === undefined) return undefined;
  if (!yes && command.name !== 'undo') return undefined;
  return (await client.state()).data.version;
}

function reportFailure(
  error: unknown,
  context: {
    err: (text: string) => void;
    command?: CliCommand;
    env?: string;
    previewVersion?: number;
    readVersion?: number;
  },
): ExitCode {
  const { err, command } = context;
  if (error instanceof UsageError) {
    err(`error: ${error.message}`);
    err(usageLine(COMMAND_SPECS.find((spec) => spec.name === error.command)));
    return error.exitCode;
  }
  if (isCliError(error)) {
    err(`error: ${error.message}`);
    if (error instanceof ApiError) {
      for (const issue of error.issues) err(`  ${issue}`);
      if (error.retryAfterSeconds !== undefined) err(`Retry after ${error.retryAfterSeconds} s.`);
      if (isUnknownFlag(error, command)) {
        const hint = unknownFlagHint(error);
        if (hint) err(hint);
        err(`To add it: npx rollout flag ${command.flag} on --create`);
      }
      if (error.status === 412 && context.previewVersion !== undefined)
        err(
          `The rollout changed since the preview (computed on version ${context.previewVersion}): nothing was written. ` +
            'Run the command again to see a preview of the current state.',
        );
      if (error.status === 412 && context.readVersion !== undefined)
        err(
          `The rollout changed after version ${context.readVersion} was read: nothing was written. ` +
            'Check `npx rollout status`, then run the command again.',
        );
    }
    const apiDown = error instanceof UnreachableError || (error instanceof ApiError && error.isServerError);
    if (apiDown && command) for (const line of kvFallbackAdvice(command, context.env)) err(line);
    return error.exitCode;
  }
  err(`error: unexpected failure: ${(error as Error)?.message ?? String(error)}`);
  return EXIT_CODES.api;
}

// The API refuses a flag the config does not have (400, naming the known ones), so that a typo
// never creates one; the CLI says how to create it on purpose.
function isUnknownFlag(
  error: ApiError,
  command: CliCommand | undefined,
): command is Extract<CliCommand, { name: 'flag' }> {
  return (
    command?.name === 'flag' &&
    !command.create &&
    error.status === 400 &&
    [error.message, ...error.issues].some((text) => text.includes('is not in the config'))
  );
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  json: boolean;
  nowMs: number;
  /** For a write: the version it was confirmed on, sent as `If-Match` (412 when stale). */
  ifMatch?: number;
}

/**
 * Sends one validated command and returns what to print: the API's JSON for `--json`, text for
 * people otherwise. API failures are thrown (see errors.ts).
 */
export async function runCommand(
  command: CliCommand,
  client: AdminClient,
  options: RunCommandOptions,
): Promise<string> {
  const print = (raw: unknown, text: string) => (options.json ? JSON.stringify(raw, null, 2) : text);
  const write = options.ifMatch === undefined ? {} : { ifMatch: options.ifMatch };
  switch (command.name) {
    case 'health': {
      const { raw } = await client.health();
      return print(raw, 'The admin API is up.');
    }
    case 'status': {
      const { data, raw } = await client.state();
      return print(raw, formatStatus(data, options.nowMs));
    }
    case 'verdict': {
      const { data, raw } = await client.state();
      const guard = typeof raw === 'object' && raw !== null && 'guard' in raw ? raw.guard : null;
      return print(guard, formatVerdict(data.guard));
    }
    case 'audit': {
      const { entries, raw, cursor } = await readAudit(client, command, options.nowMs);
      return print({ entries: raw, cursor }, formatAudit(entries, cursor));
    }
    case 'set': {
      const { data, raw } = await client.setPercent(command.percent, command.reason, write);
      return print(raw, formatWriteResult(command, data));
    }
    case 'flag': {
      const { flag, name: _, ...change } = command;
      const { data, raw } = await client.setFlag(flag, change, write);
      return print(raw, formatWriteResult(command, data));
    }
    case 'kill': {
      const result =
        command.targets === 'off'
          ? await client.unkill(command.reason, write)
          : await client.kill(await withCurrentKill(client, command.targets), command.reason, write);
      return print(result.raw, formatWriteResult(command, result.data));
    }
    default: {
      const { data, raw } = await client.transition(command.name, command.reason, write);
      return print(raw, formatWriteResult(command, data));
    }
  }
}

// PUT /kill replaces the API's kill switch; killing one flag must not lift a canary kill set
// earlier. Only the API's own switch is merged: a switch set by hand in KV stays where it is.
async function withCurrentKill(client: AdminClient, targets: KillTargets): Promise<KillTargets> {
  const state = (await client.state()).data;
  const kill = state.kill.sources ? parseKillSwitch(state.kill.sources.api) : state.kill;
  return {
    canary: targets.canary || kill.canary,
    allFlags: targets.allFlags || kill.allFlags,
    flags: [...new Set([...kill.flags, ...targets.flags])],
  };
}

/** The KV binding that holds the config and the kill switch (wrangler.toml). */
export const ROLLOUT_KV_BINDING = 'ROLLOUT';

/** What stands for the wrangler environment in a printed command when none was named. */
export const UNNAMED_ENV = '<environment>';

/**
 * The `wrangler kv key` command that does what a kill (or abort) does, for when the admin API
 * is down: ops run it by hand, or rollback.sh runs it. Undefined for commands with no KV
 * equivalent. Without an environment the command carries `--env <environment>`, which no shell
 * runs as is: wrangler without `--env` would write the top-level namespace of wrangler.toml,
 * a placeholder, and answer with success.
 *
 * @example
 * kvFallbackCommand({ name: 'kill', targets: { canary: true, allFlags: false, flags: [] } }, 'production');
 * // 'npx wrangler kv key put --binding=ROLLOUT kill "canary" --remote --env production'
 */
export function kvFallbackCommand(command: CliCommand, env?: string): string | undefined {
  const where = `--remote --env ${env ?? UNNAMED_ENV}`;
  const put = (value: string) =>
    `npx wrangler kv key put --binding=${ROLLOUT_KV_BINDING} ${KILL_SWITCH_KEY} "${value}" ${where}`;
  if (command.name === 'abort') return put(killSwitchText({ canary: true }));
  if (command.name !== 'kill') return undefined;
  if (command.targets === 'off') {
    return `npx wrangler kv key delete --binding=${ROLLOUT_KV_BINDING} ${KILL_SWITCH_KEY} ${where}`;
  }
  return put(killSwitchText(command.targets));
}

/**
 * The words around the fallback command: what it does and what it does not.
 */
export function kvFallbackAdvice(command: CliCommand, env?: string): string[] {
  const fallback = kvFallbackCommand(command, env);
  if (!fallback) return [];
  const lines = [
    'The admin API is not working. The same through KV directly (takes effect within ~60 s):',
    '',
    `  ${fallback}`,
    '',
  ];
  if (env === undefined) {
    lines.push(
      `Replace ${UNNAMED_ENV} with the wrangler environment (production, staging): without --env,`,
      'wrangler writes the placeholder namespace at the top of wrangler.toml and reports success.',
      'Set ROLLOUT_ENV (or pass --env) and this command is printed ready to run.',
    );
  }
  if (command.name === 'kill' && command.targets !== 'off') {
    lines.push(
      'This replaces the whole kill switch value: name every target to keep. The current value:',
      `  npx wrangler kv key get --binding=${ROLLOUT_KV_BINDING} ${KILL_SWITCH_KEY} --remote --env ${env ?? UNNAMED_ENV}`,
    );
  }
  if (command.name === 'abort') {
    lines.push('The kill switch holds everyone on stable until lifted: npx rollout kill off');
  }
  return lines;
}
