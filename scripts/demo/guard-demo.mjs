// The guard's part of `npm start`: the local Analytics Engine stand-in (collector.mjs), the
// visitors (traffic.mjs), and the guard fired through the control Worker's "run now" route
// (`POST /__rollout/guard/run`, the Cron handler's run at the current time; wrangler's local
// scheduled route reaches only the first Worker of the stack). After each
// run the demo reads the verdict from the admin API and prints one line; when the guard aborts
// the canary it prints a banner saying so and where to look.
//
//   npm start -- --scenario bad-canary    the canary origin fails 30 % of its requests
//
// Environment: DEMO_GUARD_EVERY_SECONDS (default 20): how often the Cron Trigger fires. Production
// fires it once a minute; the demo fires it more often so that the guard acts within minutes.
// Streaks count runs, so the demo config asks for fewer healthy runs than the default.
import { startCollector } from './collector.mjs';
import { startTraffic } from './traffic.mjs';

/** The demo's scenarios: what the canary origin does. */
export const SCENARIOS = {
  healthy: { canaryFailPercent: 0, about: 'both origins healthy' },
  'bad-canary': { canaryFailPercent: 30, about: 'the canary origin fails 30 % of its requests' },
};

/**
 * Reads `--scenario NAME` (or `--scenario=NAME`) out of the command line.
 * @param {string[]} args
 * @returns {{ scenario: string, rest: string[] } | { error: string }}
 */
export function takeScenario(args) {
  const rest = [];
  let scenario = 'healthy';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--scenario' || arg.startsWith('--scenario=')) {
      const value = arg === '--scenario' ? args[++i] : arg.slice('--scenario='.length);
      if (!value || !(value in SCENARIOS))
        return {
          error: `--scenario takes one of ${Object.keys(SCENARIOS).join(', ')} (got ${JSON.stringify(value ?? '')})`,
        };
      scenario = value;
    } else rest.push(arg);
  }
  return { scenario, rest };
}

/**
 * Starts the collector and says how to wire the Worker to it. Nothing fires until `run`.
 *
 * @param {{ scenario: string, log?: (line: string) => void }} options
 */
export async function startGuardDemo({ scenario, log = (line) => console.log(line) }) {
  const everySeconds = Number(process.env.DEMO_GUARD_EVERY_SECONDS ?? 20);
  if (!Number.isInteger(everySeconds) || everySeconds < 5 || everySeconds > 600)
    throw new Error(
      `DEMO_GUARD_EVERY_SECONDS must be a whole number of seconds from 5 to 600, got ${process.env.DEMO_GUARD_EVERY_SECONDS}`,
    );
  const collector = await startCollector();
  let traffic;
  let timer;
  let stopped = false;
  let running;
  let announced;
  let lastAt;
  const stopping = new AbortController();
  const bounded = (ms) => AbortSignal.any([stopping.signal, AbortSignal.timeout(ms)]);

  async function fire(url, token) {
    const ran = await fetch(`${url}/__rollout/guard/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      signal: bounded(30_000),
    });
    const text = await ran.text();
    if (ran.status !== 200)
      return log(`guard: the scheduled handler did not run (${ran.status} ${text.slice(0, 120)})`);
    const response = await fetch(`${url}/__rollout/state`, {
      headers: { authorization: `Bearer ${token}` },
      signal: bounded(10_000),
    });
    if (!response.ok) return log(`guard: could not read the state (${response.status})`);
    const state = await response.json();
    const guard = state.guard;
    const seen = traffic?.stats();
    const visitors = seen ? `visitors: ${seen.sent} GETs, ${seen.failed} failed` : '';
    if (!guard)
      return log(`guard: no verdict yet (rollout ${state.state} at ${state.percent} %; ${visitors})`);
    // A run that judged nothing (no live canary) leaves the last verdict in place.
    if (guard.at === lastAt)
      return log(`guard: nothing to judge (rollout ${state.state} at ${state.percent} %); ${visitors}`);
    lastAt = guard.at;
    const why =
      guard.status === 'breach'
        ? guard.reasons.map((reason) => reason.message).join('; ')
        : guard.action.type === 'none'
          ? guard.action.why
          : (guard.reason ?? '');
    log(
      `guard: ${guard.status}, ${guard.action.type}${why ? ` (${why})` : ''}; rollout ${state.state} at ${state.percent} %; ${visitors}`,
    );
    // The verdict stays until the next judged run: announce each abort once.
    if (guard.action.type === 'aborted' && announced !== guard.action.version) {
      announced = guard.action.version;
      banner(guard, why);
    }
  }

  function banner(guard, why) {
    log(`
  ════════════════════════════════════════════════════════════════════════
    THE GUARD ABORTED THE CANARY (config v${guard.action.version}, judged at ${guard.at})
  ════════════════════════════════════════════════════════════════════════
  Why:        ${why}
  Visitors:   every canary visitor is on stable again; GETs that hit the failing canary were
              served by stable (failover), so none of them saw an error.
  See it:     npx rollout status     npx rollout verdict     npx rollout audit --limit 5
`);
  }

  return {
    scenario,
    ...SCENARIOS[scenario],
    everySeconds,
    /** Extra `npm run dev` arguments: the collector's address. */
    wranglerArgs: [
      '--var',
      `METRICS_COLLECTOR_URL:${collector.url}/points`,
      '--var',
      `ANALYTICS_SQL_BASE_URL:${collector.url}`,
      '--var',
      `CF_ACCOUNT_ID:${collector.accountId}`,
    ],
    /** The collector's made-up API token, for the dotenv file (a token stays off the command line). */
    envFileLines: `CF_API_TOKEN='${collector.token}'\n`,
    /** For the start banner. */
    describe: () =>
      `Guard:      on, against a local Analytics Engine stand-in (${collector.url}); the Cron Trigger fires every ${everySeconds} s
  Scenario:   ${scenario} (${SCENARIOS[scenario].about})${scenario === 'healthy' ? '; npm start -- --scenario bad-canary shows an abort' : ''}`,
    /** Starts the visitors and the Cron Trigger against the running Worker. */
    run({ url, token }) {
      traffic = startTraffic({ url, log });
      const tick = async () => {
        if (stopped || running) return;
        running = fire(url, token).catch(
          (error) => stopped || log(`guard: could not fire the Cron Trigger (${error?.message ?? error})`),
        );
        await running;
        running = undefined;
      };
      timer = setInterval(tick, everySeconds * 1000);
    },
    /** Stops the visitors, the Cron Trigger and the collector. Never throws: the demo must still stop wrangler. */
    async close() {
      stopped = true;
      clearInterval(timer);
      stopping.abort();
      await Promise.allSettled([traffic?.close(), running]);
      await collector.close().catch(() => {});
    },
  };
}
