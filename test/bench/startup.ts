/**
 * `npm run bench:startup`: each Worker's startup CPU, as `wrangler check startup` profiles it in a
 * local workerd (its script's top-level evaluation; not Cloudflare's own measurement). Rounds
 * alternate the two Workers; prints the median and the range of the profiled time and of the
 * time spent in JavaScript (the profile minus idle, program and garbage-collector samples).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROUNDS = Number(process.env.STARTUP_ROUNDS ?? 5);
const WORKERS = [
  { name: 'edge', config: 'wrangler.toml' },
  { name: 'control', config: 'worker/control/wrangler.toml' },
] as const;

interface Profile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Milliseconds: the whole profile, and the samples that ran JavaScript. */
function measure(config: string, dir: string): { totalMs: number; scriptMs: number } {
  const outfile = join(dir, 'startup.cpuprofile');
  execFileSync(
    process.execPath,
    ['node_modules/wrangler/bin/wrangler.js', 'check', 'startup', '-c', config, '--outfile', outfile],
    { stdio: 'pipe', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
  const profile = JSON.parse(readFileSync(outfile, 'utf8')) as Profile;
  const idle = new Set(
    profile.nodes
      .filter((node) => ['(idle)', '(program)', '(garbage collector)'].includes(node.callFrame.functionName))
      .map((node) => node.id),
  );
  let script = 0;
  profile.samples.forEach((id, i) => {
    if (!idle.has(id)) script += profile.timeDeltas[i] ?? 0;
  });
  return { totalMs: (profile.endTime - profile.startTime) / 1000, scriptMs: script / 1000 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'startup-'));
try {
  const results = new Map<string, { totalMs: number; scriptMs: number }[]>();
  for (let round = 0; round < ROUNDS; round++)
    for (const worker of round % 2 ? [...WORKERS].reverse() : WORKERS) {
      const list = results.get(worker.name) ?? [];
      list.push(measure(worker.config, dir));
      results.set(worker.name, list);
    }
  for (const { name } of WORKERS) {
    const list = results.get(name)!;
    const totals = list.map((r) => r.totalMs);
    const scripts = list.map((r) => r.scriptMs);
    console.log(
      `${name}: startup profile ${median(totals).toFixed(1)} ms (${Math.min(...totals).toFixed(1)}–${Math.max(...totals).toFixed(1)}), ` +
        `JavaScript ${median(scripts).toFixed(1)} ms (${Math.min(...scripts).toFixed(1)}–${Math.max(...scripts).toFixed(1)}), ${ROUNDS} rounds`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
