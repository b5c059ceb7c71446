import { execFile } from 'node:child_process';

/** How a child process ended. */
export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end (killed after `timeoutMs`) and resolves with its exit code and
 * output; never rejects on a non-zero exit, since the caller asserts on the code.
 *
 * @example
 * const { code, stdout } = await runProcess('bash', ['scripts/rollback.sh', '--help'], { cwd, env });
 */
export function runProcess(
  program: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(
      program,
      [...args],
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 20_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}${error.message}` : stderr });
      },
    );
  });
}

/**
 * Maps items through an async function with at most `limit` running at once, keeping order:
 * enough parallelism to hide process start-up, without flooding a shared machine.
 *
 * @example
 * const results = await mapWithConcurrency(commands, 3, runHelp);
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
