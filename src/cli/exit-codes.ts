/**
 * The CLI's exit codes. Scripts branch on them, so they are part of the CLI's contract and are
 * documented in docs/CLI.md.
 *
 * @example
 * process.exitCode = EXIT_CODES.usage;
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
});

/** One of the CLI's exit codes. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
