import { EXIT_CODES, type ExitCode } from './exit-codes';

/**
 * The command line was wrong; nothing was sent to the API.
 *
 * @example
 * throw new UsageError('percent must be at most 100', 'set');
 */
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

/**
 * The admin API answered with an error status.
 *
 * @example
 * if (error instanceof ApiError && error.status === 409) console.error(error.message);
 */
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

/**
 * The admin API could not be reached at all.
 *
 * @example
 * throw new UnreachableError('http://127.0.0.1:8787', new Error('ECONNREFUSED'));
 */
export class UnreachableError extends Error {
  readonly exitCode: ExitCode = EXIT_CODES.unreachable;
  constructor(origin: string, cause: unknown) {
    super(`cannot reach the admin API at ${origin}: ${describeCause(cause)}`, { cause });
    this.name = 'UnreachableError';
  }
}

/**
 * The API answered 2xx with a body that is not what the route promises.
 *
 * @example
 * throw new UnreadableResponseError('GET /state', ['version: expected number']);
 */
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
 *
 * @example
 * const code = isCliError(error) ? error.exitCode : EXIT_CODES.api;
 */
export function isCliError(error: unknown): error is CliError {
  return (
    error instanceof UsageError ||
    error instanceof ApiError ||
    error instanceof UnreachableError ||
    error instanceof UnreadableResponseError
  );
}
