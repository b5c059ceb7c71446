import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STUB_DIR = dirname(fileURLToPath(import.meta.url));

/** What a command run with the wrangler stub on PATH did. */
export interface StubbedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every `wrangler` call it made, as argument lists, in order. */
  wranglerCalls: string[][];
  /** The secret names of each `wrangler secret bulk` call (the stub never keeps values). */
  bulkSecretNames: string[][];
}

/**
 * Runs a command (a launch script) with the fake `wrangler` first on PATH and returns its exit
 * code, output and the wrangler calls it made. Bounded: the process group is killed after
 * `timeoutMs`.
 *
 * @example
 * const run = await runWithWranglerStub('scripts/rollback.sh', ['--dry-run'], { env: { ROLLOUT_URL } });
 * expect(run.wranglerCalls).toEqual([]);
 */
export async function runWithWranglerStub(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<StubbedRun> {
  const dir = mkdtempSync(join(tmpdir(), 'wrangler-stub-'));
  const log = join(dir, 'calls.jsonl');
  const child = spawn(command, [...args], {
    env: {
      ...process.env,
      PATH: `${STUB_DIR}:${process.env.PATH}`,
      WRANGLER_STUB_LOG: log,
      WRANGLER_SEND_METRICS: 'false',
      NO_COLOR: '1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, options.timeoutMs ?? 60_000);
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  const readLines = (path: string): string[][] => {
    try {
      return readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]);
    } catch {
      return []; // no such call was made
    }
  };
  const wranglerCalls = readLines(log);
  const bulkSecretNames = readLines(`${log}.bulk`);
  rmSync(dir, { recursive: true, force: true });
  return { code, stdout, stderr, wranglerCalls, bulkSecretNames };
}
