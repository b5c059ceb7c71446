import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runGuard } from '../../src/guard/run-guard';
import { runBake, type Scenario } from './simulated-traffic';

/**
 * `npm run guard:simulate`: drives the real `runGuard()` with seeded, simulated per-minute
 * traffic (test/simulation/simulated-traffic.ts) and prints, per scenario and canary traffic,
 * the share of one-hour bakes the guard aborted (or called a sample-ratio mismatch) and how many
 * minutes it took: median, p95, and the share never caught within the hour.
 *
 * `BAKES=200 npm run guard:simulate` for a quick look; `ONLY=email` to run matching scenarios.
 */

const BAKES = Number(process.env.BAKES ?? 2000);
const ONLY = process.env.ONLY;
const RATES = [20, 100, 1000, 10_000];

const healthy = (errors: number, p95 = 1200): Omit<Scenario, 'name' | 'canaryPerMinute'> => ({
  canaryErrorPercent: errors,
  stableErrorPercent: errors,
  canaryP95Ms: p95,
  detect: 'none',
});

/** Every scenario × traffic cell the study runs. */
export const CELLS: Scenario[] = [
  ...[0.3, 0.5, 0.8].flatMap((e) =>
    RATES.map((r) => ({ name: `healthy: errors ${e} % = stable`, canaryPerMinute: r, ...healthy(e) })),
  ),
  ...RATES.map((r) => ({ name: 'healthy: p95 1.8 s', canaryPerMinute: r, ...healthy(0.5, 1800) })),
  ...RATES.map((r) => ({
    name: 'near threshold: errors 0.9 % vs 0.5 %',
    canaryPerMinute: r,
    ...healthy(0.5),
    canaryErrorPercent: 0.9,
  })),
  ...[5, 20, 100].map((e) => ({
    name: `healthy: email 95 %, ${e} emails/min`,
    canaryPerMinute: 100,
    ...healthy(0.5),
    emailsPerMinute: e,
    emailDeliveryPercent: 95,
  })),
  ...RATES.map((r) => ({
    name: 'bad: errors 5 %',
    canaryPerMinute: r,
    ...healthy(0.5),
    canaryErrorPercent: 5,
    detect: 'abort' as const,
  })),
  ...RATES.map((r) => ({
    name: 'bad: errors 30 %',
    canaryPerMinute: r,
    ...healthy(0.5),
    canaryErrorPercent: 30,
    detect: 'abort' as const,
  })),
  ...RATES.map((r) => ({
    name: 'bad: p95 2.5 s',
    canaryPerMinute: r,
    ...healthy(0.5, 2500),
    detect: 'abort' as const,
  })),
  ...[5, 20, 100].map((e) => ({
    name: `bad: email 80 %, ${e} emails/min`,
    canaryPerMinute: 100,
    ...healthy(0.5),
    emailsPerMinute: e,
    emailDeliveryPercent: 80,
    detect: 'abort' as const,
  })),
  ...RATES.map((r) => ({
    name: 'bad split: 12 % for 10 %',
    canaryPerMinute: r,
    ...healthy(0.5),
    trueSharePercent: 12,
    detect: 'srm' as const,
  })),
];

const pct = (part: number, whole: number) => `${((part * 100) / whole).toFixed(1)} %`;

/** One cell's measured line of the table. */
async function measure(cell: Scenario, index: number): Promise<string> {
  let aborted = 0;
  let mismatched = 0;
  const caught: number[] = [];
  for (let bake = 0; bake < BAKES; bake++) {
    const result = await runBake(runGuard, cell, (index + 1) * 1_000_003 + bake);
    if (result.abortedAt !== null) aborted++;
    if (result.mismatchAt !== null) mismatched++;
    const at = cell.detect === 'abort' ? result.abortedAt : cell.detect === 'srm' ? result.mismatchAt : null;
    if (at !== null) caught.push(at);
  }
  caught.sort((a, b) => a - b);
  // Quantiles over all bakes: one never caught counts as later than the hour.
  const over = (q: number) => {
    const rank = Math.ceil(q * BAKES) - 1;
    return rank < caught.length ? String(caught[rank]) : '> 60';
  };
  const detection =
    cell.detect === 'none' ? ['—', '—', '—'] : [over(0.5), over(0.95), pct(BAKES - caught.length, BAKES)];
  return `| ${cell.name} | ${cell.canaryPerMinute.toLocaleString('en-US')} | ${pct(aborted, BAKES)} | ${pct(mismatched, BAKES)} | ${detection.join(' | ')} |`;
}

// Two processes by default (the study is embarrassingly parallel): each takes every other cell.
async function main(): Promise<void> {
  const started = Date.now();
  const chosen = CELLS.map((cell, index) => ({ cell, index })).filter(
    ({ cell }) => !ONLY || cell.name.includes(ONLY),
  );
  const shard = process.env.SIMULATION_SHARD;
  if (shard !== undefined) {
    const [mine, of] = shard.split('/').map(Number) as [number, number];
    for (const [i, { cell, index }] of chosen.entries())
      if (i % of === mine) console.log(JSON.stringify({ i, line: await measure(cell, index) }));
    return;
  }
  const shards = Math.max(1, Number(process.env.SHARDS ?? 2));
  const lines: string[] = [];
  await Promise.all(
    Array.from({ length: shards }, (_, mine) => {
      const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
        env: { ...process.env, SIMULATION_SHARD: `${mine}/${shards}` },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      return new Promise<void>((resolve, reject) =>
        child.on('close', (code) => {
          if (code !== 0) return reject(new Error(`simulation shard ${mine} exited with ${code}`));
          for (const text of out.split('\n').filter(Boolean)) {
            const { i, line } = JSON.parse(text) as { i: number; line: string };
            lines[i] = line;
          }
          resolve();
        }),
      );
    }),
  );
  console.log(
    '| scenario | canary req/min | hours aborted | hours with SRM | caught: median min | p95 min | never caught |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const line of lines) if (line) console.log(line);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`\n${BAKES} one-hour bakes per cell, seeded, ${shards} processes, ${seconds} s.`);
}

await main();
