/**
 * The CLI's exit codes. Scripts branch on them, so they are part of the CLI's contract and are
 * documented in docs/CLI.md.
 */
export const EXIT_CODES = Object.freeze({
  /** The command did what it was asked. */
  ok: 0,
  /** The admin API answered with an error (4xx or 5xx), or with a body the CLI could not read. */
  api: 1,
  /** The command line was wrong: nothing was sent. */
  usage: 2,
  /** The admin API could not be reached (connection refused, DNS, timeout). */
  unreachable: 3,
  /** A write that moves visitors was not confirmed at the terminal's prompt: nothing was sent. */
  declined: 4,
});

/** One of the CLI's exit codes. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The command line was wrong; nothing was sent to the API. */
export class UsageError extends Error {
  readonly exitCode: ExitCode = EXIT_CODES.usage;
  constructor(
    message: string,
    /** The command whose usage line should be shown, if any. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The admin API answered with an error status. */
export class ApiError extends Error {
  readonly exitCode: ExitCode = EXIT_CODES.api;
  constructor(
    message: string,
    readonly status: number,
    /** The validation issues of a 400, one `path: message` line each. */
    readonly issues: readonly string[] = [],
    /** Seconds from `Retry-After` on a 429/503, when sent. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Whether the API itself is failing (5xx): the cue for the KV fallback. */
  get isServerError(): boolean {
    return this.status >= 500;
  }
}

/** The admin API could not be reached at all. */
export class UnreachableError extends Error {
  readonly exitCode: ExitCode = EXIT_CODES.unreachable;
  constructor(origin: string, cause: unknown) {
    super(`cannot reach the admin API at ${origin}: ${describeCause(cause)}`, { cause });
    this.name = 'UnreachableError';
  }
}

/** The API answered 2xx with a body that is not what the route promises. */
export class UnreadableResponseError extends Error {
  readonly exitCode: ExitCode = EXIT_CODES.api;
  constructor(route: string, issues: readonly string[]) {
    super(`the answer to ${route} is not what the admin API sends: ${issues.join('; ')}`);
    this.name = 'UnreadableResponseError';
  }
}

// fetch wraps the socket error (ECONNREFUSED, ENOTFOUND…) in `cause`; that is the useful part.
function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    if (cause.name === 'TimeoutError' || cause.name === 'AbortError') return 'no answer in time';
    const inner = (cause as { cause?: unknown }).cause;
    if (inner instanceof Error && inner.message) return inner.message;
    return cause.message;
  }
  return String(cause);
}

/** Every failure the CLI reports with its own exit code. */
export type CliError = UsageError | ApiError | UnreachableError | UnreadableResponseError;

/**
 * Whether an error is one the CLI expects (and so has an exit code), rather than a bug.
 */
export function isCliError(error: unknown): error is CliError {
  return (
    error instanceof UsageError ||
    error instanceof ApiError ||
    error instanceof UnreachableError ||
    error instanceof UnreadableResponseError
  );
}
