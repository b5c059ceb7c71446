/**
 * `npx tsx test/bench/preview.ts`: the CPU one `POST /preview` costs at its worst, a config of 200 flags
 * (the most a config holds) whose seeds all change together with a new salt (issue 21 M6), with
 * the hash budget (what the route runs) and without it (every subject on the full 40,000-id
 * sample, as before the budget). Prints the wall time of `previewChange` in this process (pure
 * CPU, no I/O), the sample size used and the widest 95 % interval. Figures, not assertions: the
 * unit test `preview.test.ts` proves the bound; this shows what it costs and buys.
 */
import { previewChange, type PreviewOptions } from '../../src/admin/preview';
import { RolloutConfigSchema, type RolloutConfig } from '../../src/config/config-schema';

const FLAGS = Number(process.env.BENCH_FLAGS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function config(salt: string, seedSuffix: string): RolloutConfig {
  const flags = Object.fromEntries(
    Array.from({ length: FLAGS }, (_, i) => [
      `f${i}`,
      { enabled: true, percent: 10 + (i % 80), default: false, seed: `f${i}-${seedSuffix}` },
    ]),
  );
  return RolloutConfigSchema.parse({ version: 1, rollout: { salt, percent: 30, state: 'ramping' }, flags });
}

const before = { config: config('launch-1', 'a'), kill: null };
const after = { config: config('launch-2', 'b'), kill: null };

function measure(label: string, options: PreviewOptions): void {
  const times: number[] = [];
  let line = '';
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    const preview = previewChange(before, after, options);
    times.push(performance.now() - start);
    const widest = Math.max(...preview.moves.map((move) => move.margin95));
    line = `${preview.sample.estimated} estimated subjects on ${preview.sample.size} ids each, widest 95 % interval ±${(widest * 100).toFixed(2)} points`;
  }
  times.sort((a, b) => a - b);
  const ms = (t: number) => `${t.toFixed(0)} ms`;
  console.log(
    `${label}: median ${ms(times[Math.floor(times.length / 2)]!)}, min ${ms(times[0]!)}, max ${ms(times.at(-1)!)} over ${ROUNDS} rounds; ${line}`,
  );
}

console.log(`${FLAGS} flags whose seeds change, and a new salt:`);
measure('bounded (default hash budget)', {});
measure('unbounded (full sample, the old behaviour)', { hashBudget: Number.POSITIVE_INFINITY });
