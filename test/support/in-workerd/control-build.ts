import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where the control Worker is bundled for the edge's test project (an auxiliary Worker). */
export const CONTROL_BUILD_DIR = resolve(import.meta.dirname, '../../../.tmp/control-build');

/**
 * Bundles the control Worker with wrangler's own build (`wrangler deploy --dry-run --outdir`),
 * so the edge's tests run beside the same JavaScript a deploy would upload. vitest-pool-workers
 * runs an auxiliary Worker only from pre-built JavaScript. Called when the config is loaded, so
 * the file exists before Miniflare starts.
 */
export function buildControlWorker(): string {
  mkdirSync(CONTROL_BUILD_DIR, { recursive: true });
  execFileSync(
    process.execPath,
    [
      resolve(import.meta.dirname, '../../../node_modules/wrangler/bin/wrangler.js'),
      'deploy',
      '--dry-run',
      '--env=',
      '--outdir',
      CONTROL_BUILD_DIR,
      '-c',
      resolve(import.meta.dirname, '../../../worker/control/wrangler.toml'),
    ],
    { stdio: 'pipe', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
  const script = resolve(CONTROL_BUILD_DIR, 'index.js');
  if (!existsSync(script)) throw new Error(`the control Worker build wrote no ${script}`);
  return script;
}
