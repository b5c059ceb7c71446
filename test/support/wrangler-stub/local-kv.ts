import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Writes a key into the local KV of a running `wrangler dev` (its `--persist-to` folder) with the
 * real wrangler, the way ops would with `--remote`: for state only the guard writes, such as
 * `guard:verdict`.
 *
 * @example
 * await putLocalKv(worker.persistDir, 'guard:verdict', JSON.stringify(verdict));
 */
export async function putLocalKv(persistDir: string, key: string, value: string): Promise<void> {
  await run(
    'npx',
    [
      'wrangler',
      'kv',
      'key',
      'put',
      '--binding',
      'ROLLOUT',
      key,
      value,
      '--local',
      '--persist-to',
      persistDir,
    ],
    { env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' }, timeout: 30_000 },
  );
}
