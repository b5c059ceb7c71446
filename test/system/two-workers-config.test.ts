import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';

/** The edge bundle's budget, gzip (README, Performance): visitors load nothing else. */
const EDGE_BUDGET_KIB = 52;
const ENVIRONMENTS = ['', 'staging', 'production'] as const;
const CONTROL_CONFIG = 'worker/control/wrangler.toml';

type Config = Record<string, any>;
const edge = parse(readFileSync('wrangler.toml', 'utf8')) as Config;
const control = parse(readFileSync(CONTROL_CONFIG, 'utf8')) as Config;
/** A config's table for an environment ('' is the top level). */
const inEnv = (config: Config, env: string): Config => (env ? config.env[env] : config);

const outDir = mkdtempSync(join(tmpdir(), 'two-workers-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** `wrangler deploy --dry-run` of one config and environment: its output and bundle folder. */
function dryRun(config: string, env: string): { output: string; dir: string } {
  const dir = join(outDir, `${config.replace(/\W/g, '_')}-${env || 'top'}`);
  const output = execFileSync(
    process.execPath,
    [
      'node_modules/wrangler/bin/wrangler.js',
      'deploy',
      '--dry-run',
      `--env=${env}`,
      '--outdir',
      dir,
      '-c',
      config,
    ],
    { encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } },
  );
  return { output, dir };
}

/** The gzip size of a bundle's JavaScript, in KiB, as wrangler reports it ("Total Upload"). */
function gzipKiB(dir: string): number {
  const bytes = readdirSync(dir)
    .filter((file) => /\.(js|mjs)$/.test(file))
    .map((file) => readFileSync(join(dir, file)));
  return gzipSync(Buffer.concat(bytes)).length / 1024;
}

describe('two Workers: the edge in front of the app, the control plane beside it', () => {
  it('keeps every Durable Object class, migration and cron out of the edge, and puts them in the control Worker', () => {
    for (const env of ENVIRONMENTS) {
      const front = inEnv(edge, env);
      expect(front.durable_objects, `edge ${env}`).toBeUndefined();
      expect(front.triggers, `edge ${env}`).toBeUndefined();
      const back = inEnv(control, env);
      expect(back.durable_objects.bindings, `control ${env}`).toEqual([
        { name: 'CONTROL', class_name: 'RolloutControl' },
      ]);
      expect(back.triggers.crons, `control ${env}`).toEqual(['* * * * *']);
    }
    expect(edge.migrations).toBeUndefined();
    expect(control.migrations).toEqual([{ tag: 'v1-control-plane', new_sqlite_classes: ['RolloutControl'] }]);
  });

  it("binds, in each environment, that environment's control Worker and the same KV namespace", () => {
    for (const env of ENVIRONMENTS) {
      const front = inEnv(edge, env);
      const back = inEnv(control, env);
      expect(front.services, env).toEqual([{ binding: 'CONTROL_PLANE', service: back.name ?? control.name }]);
      expect(front.kv_namespaces[0].id, env).toBe(back.kv_namespaces[0].id);
      expect(front.analytics_engine_datasets[0].dataset, env).toBe(back.analytics_engine_datasets[0].dataset);
    }
  });

  it(`passes wrangler deploy --dry-run in every environment, the edge bundle within ${EDGE_BUDGET_KIB} KiB gzip`, () => {
    const sizes: string[] = [];
    for (const env of ENVIRONMENTS) {
      const front = dryRun('wrangler.toml', env);
      const back = dryRun(CONTROL_CONFIG, env);
      const service = inEnv(control, env).name ?? control.name;
      expect(front.output, env).toContain(`env.CONTROL_PLANE (${service})`);
      expect(front.output).not.toContain('Durable Object');
      expect(back.output, env).toContain('env.CONTROL (RolloutControl)');
      const edgeKiB = gzipKiB(front.dir);
      const controlKiB = gzipKiB(back.dir);
      sizes.push(`${env || 'top'}: edge ${edgeKiB.toFixed(1)} KiB, control ${controlKiB.toFixed(1)} KiB`);
      expect(edgeKiB, `edge bundle (${env || 'top'})`).toBeLessThanOrEqual(EDGE_BUDGET_KIB);
      expect(statSync(join(back.dir, 'index.js')).size).toBeGreaterThan(0);
    }
    console.log(`bundles (gzip): ${sizes.join('; ')}`);
  });
});
