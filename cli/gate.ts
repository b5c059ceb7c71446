import * as z from 'zod/mini';

/**
 * The launch gate of `scripts/production-deploy.sh`, as `npx rollout gate`: after a step has
 * baked, may the launch go on? It judges `npx rollout status --json` (on stdin) and passes only on
 * a `healthy` guard verdict given after the step began, on the config version in force. A gate
 * that passes on no data is no gate.
 */

const ReasonSchema = z.union([z.looseObject({ message: z.optional(z.string()) }), z.unknown()]);
const CanaryNumbersSchema = z.optional(z.looseObject({ errorRatePercent: z.optional(z.unknown()) }));

/** The part of `GET /state` a gate reads; anything else in it is ignored. */
export const GateStatusSchema = z.looseObject({
  state: z.string(),
  percent: z.number(),
  version: z.int(),
  kill: z.optional(z.nullable(z.looseObject({ canary: z.optional(z.boolean()) }))),
  guard: z.optional(
    z.nullable(
      z.looseObject({
        status: z.string(),
        at: z.string(),
        configVersion: z.optional(z.nullable(z.number())),
        reason: z.optional(z.nullable(z.string())),
        reasons: z.optional(z.array(ReasonSchema)),
        numbers: z.optional(z.nullable(z.looseObject({ canary: CanaryNumbersSchema }))),
        canary: CanaryNumbersSchema,
      }),
    ),
  ),
});

/** What a gate reads of the status. */
export type GateStatus = z.infer<typeof GateStatusSchema>;

/** The gate's settings, from the deploy script's options. */
export interface GateOptions {
  /** When the step began (ms since the epoch): an older verdict judged the step before. */
  stepStartedMs: number;
  /** `--max-error-rate`: also fail when the canary's error rate in the verdict is above it. */
  maxErrorRatePercent?: number;
  /** `--allow-no-verdict`: a missing, stale or inconclusive verdict is a warning, not a failure. */
  allowNoVerdict: boolean;
}

/** The judgement: pass with what the gate saw, or fail with why. */
export type GateJudgement = { pass: true; summary: string } | { pass: false; problems: string[] };

/**
 * Judges a gate. It fails when the rollout is aborted or not ramping/promoted, when the kill
 * switch stops the canary, on a `breach` verdict, on a verdict that is missing, older than the
 * step, judged on another config version or not `healthy` (unless `allowNoVerdict`), and, with
 * `maxErrorRatePercent`, on a canary error rate above it or none to read.
 *
 * @example
 * judgeGate(status, { stepStartedMs: Date.parse('2026-11-25T12:00:00Z'), allowNoVerdict: false });
 * // { pass: true, summary: 'ramping at 10 %, guard healthy' }
 */
export function judgeGate(status: GateStatus, options: GateOptions): GateJudgement {
  const guard = status.guard ?? null;
  const problems: string[] = [];
  const warnings: string[] = [];
  if (status.state === 'aborted') problems.push('the rollout is aborted');
  else if (!['ramping', 'promoted'].includes(status.state))
    problems.push(`the rollout is ${status.state}, not ramping`);
  if (status.kill?.canary) problems.push('the kill switch stops the canary');
  if (guard?.status === 'breach') {
    const reasons = (guard.reasons ?? []).map((reason) =>
      reason && typeof reason === 'object' && typeof (reason as { message?: unknown }).message === 'string'
        ? (reason as { message: string }).message
        : JSON.stringify(reason),
    );
    problems.push(`guard verdict: breach${reasons.length ? ` (${reasons.join('; ')})` : ''}`);
  } else {
    const why = whyNotJudged(status, guard, options.stepStartedMs);
    if (why) (options.allowNoVerdict ? warnings : problems).push(why);
  }
  if (options.maxErrorRatePercent !== undefined) {
    const rate = (guard?.numbers?.canary ?? guard?.canary)?.errorRatePercent;
    if (typeof rate !== 'number')
      problems.push('no canary error rate in the guard verdict to hold against --max-error-rate');
    else if (rate > options.maxErrorRatePercent)
      problems.push(`canary error rate ${rate} % > ${options.maxErrorRatePercent} %`);
  }
  if (problems.length) return { pass: false, problems };
  const warning = warnings.length ? ` (warning: ${warnings.join('; ')}; passed with --allow-no-verdict)` : '';
  return {
    pass: true,
    summary: `${status.state} at ${status.percent} %, guard ${guard ? guard.status : 'has no verdict'}${warning}`,
  };
}

// Recent is not enough: the verdict must judge the config in force now. A write after the guard
// ran (a flag, a kill, another step) makes it a verdict on a config visitors no longer get.
function whyNotJudged(
  status: GateStatus,
  guard: NonNullable<GateStatus['guard']> | null,
  stepStartedMs: number,
): string | undefined {
  if (!guard) return 'no guard verdict yet';
  if (!(Date.parse(guard.at) >= stepStartedMs)) return `the guard verdict (${guard.at}) predates this step`;
  if (guard.configVersion !== status.version) {
    const judged = Number.isInteger(guard.configVersion)
      ? `config v${guard.configVersion}`
      : 'an unrecorded config version';
    return `the guard verdict was judged on ${judged}, not the current v${status.version}`;
  }
  if (guard.status !== 'healthy')
    return `the guard verdict is ${guard.status}${guard.reason ? ` (${guard.reason})` : ''}`;
  return undefined;
}

/**
 * The version at 100 % of a Worker's deployment, from `wrangler deployments status --json`, or
 * undefined (no deployment yet, a split deployment, unreadable output). It becomes a rollback
 * target, so anything but a plain version id is refused.
 *
 * @example
 * currentVersion('{"versions":[{"version_id":"0a0a-…","percentage":100}]}'); // '0a0a-…'
 */
export function currentVersion(deploymentJson: string): string | undefined {
  let deployment: unknown;
  try {
    deployment = JSON.parse(deploymentJson);
  } catch {
    return undefined;
  }
  const parsed = DeploymentSchema.safeParse(deployment);
  if (!parsed.success) return undefined;
  const full = parsed.data.versions.find((version) => version.percentage === 100);
  return full && /^[0-9A-Za-z-]{1,64}$/.test(full.version_id) ? full.version_id : undefined;
}

const DeploymentSchema = z.looseObject({
  versions: z.array(z.looseObject({ version_id: z.string(), percentage: z.number() })),
});
