import { createAdminClient } from './admin-client';
import { ApiError, isCliError, UnreachableError, UsageError } from './cli-errors';
import type { CliCommand } from './cli-command';
import { COMMAND_SPECS } from './command-specs';
import { resolveConnection, type Connection } from './connection-options';
import { EXIT_CODES, type ExitCode } from './exit-codes';
import { commandHelp, generalHelp, usageLine } from './help-text';
import { kvFallbackAdvice } from './kv-fallback';
import { parseCommandLine } from './parse-command-line';
import { runCommand } from './run-command';

/** Where the CLI reads its settings and writes its output; injected so tests can run it in-process. */
export interface CliRuntime {
  env: Readonly<Record<string, string | undefined>>;
  stdout(text: string): void;
  stderr(text: string): void;
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
}

/**
 * Runs `npx rollout` once and resolves to its exit code (see exit-codes.ts). Never throws.
 * The token never reaches the output: every line is scrubbed of it before it is written.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), { env: process.env, stdout: …, stderr: … });
 */
export async function runCli(argv: readonly string[], runtime: CliRuntime): Promise<ExitCode> {
  let connection: Connection | undefined;
  let command: CliCommand | undefined;
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
    command = parsed.command;
    connection = resolveConnection(parsed.flags, runtime.env);
    if (parsed.spec.needsToken && !connection.token) {
      throw new UsageError('no admin token: set ROLLOUT_TOKEN (or pass --token)');
    }
    const client = createAdminClient({ connection, fetch: runtime.fetch, timeoutMs: runtime.timeoutMs });
    out(await runCommand(command, client, { json: parsed.json, nowMs: (runtime.now ?? Date.now)() }));
    return EXIT_CODES.ok;
  } catch (error) {
    return reportFailure(error, { err, command, env: connection?.env });
  }
}

function reportFailure(
  error: unknown,
  context: { err: (text: string) => void; command?: CliCommand; env?: string },
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
    }
    const apiDown = error instanceof UnreachableError || (error instanceof ApiError && error.isServerError);
    if (apiDown && command) for (const line of kvFallbackAdvice(command, context.env)) err(line);
    return error.exitCode;
  }
  err(`error: unexpected failure: ${(error as Error)?.message ?? String(error)}`);
  return EXIT_CODES.api;
}
