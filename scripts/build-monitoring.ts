import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import { describeIssues } from '../src/config/parse-config';
import { monitoringFiles } from '../monitoring/generator/monitoring-files';

/**
 * Writes monitoring/ (Grafana dashboards, alert rules, datasource) from the data point schema
 * and the launch thresholds. `--check` writes nothing and exits 1 when a file is stale.
 *
 *   npm run monitoring:build
 *   npm run monitoring:build -- --check
 */
const ArgsSchema = z.array(z.enum(['--check'], 'unknown option (the only option is --check)'));

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = ArgsSchema.safeParse(process.argv.slice(2));
if (!args.success) {
  console.error(`usage: build-monitoring [--check]\n${describeIssues(args.error).join('\n')}`);
  process.exit(2);
}
const check = args.data.includes('--check');

const stale: string[] = [];
for (const [path, text] of Object.entries(monitoringFiles())) {
  const target = resolve(root, path);
  let current: string | undefined;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  stale.push(path);
  if (!check) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
}

if (check && stale.length > 0) {
  console.error(`stale generated files (run npm run monitoring:build):\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
console.log(stale.length === 0 ? 'monitoring/ is up to date' : `wrote ${stale.join(', ')}`);
