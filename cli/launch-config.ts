import {
  IfMatchSchema,
  OverrideLinkSchema,
  StateBodySchema,
  WriteResultSchema,
} from '../src/admin/admin-schemas';
import { PreviewAnswerSchema } from '../src/admin/admin-routes';
import { createAdminClient, type WriteOptions } from './admin-client';
import type { Connection } from './command-line';
import { ApiError } from './errors';
import type { LaunchPlan } from './launch-plan';
import { describePreview } from './preview';
import type * as z from 'zod/mini';

/**
 * Phase A's config write, as `npx rollout launch-config`: the launch plan's config goes to the
 * admin API as one whole-config write, previewed first and applied only on the version the
 * preview was computed on.
 *
 * 1. `GET /state`: its `ETag` is the committed version.
 * 2. A live launch (ramping, paused or promoted) is refused: the launch config sets 0 % and every
 *    flag off, so writing it would send every canary visitor back to stable.
 * 3. `POST /preview` with `{config}` and `If-Match`: what the write would move, printed.
 * 4. `PUT /config` with the same `If-Match` (`412` if anyone wrote in between: nothing is
 *    overwritten). A config already in force is not written again, so a second run of the deploy
 *    script (after QA) changes nothing.
 */

/** Where the write goes, and how. */
export interface LaunchConfigContext {
  connection: Pick<Connection, 'url' | 'prefix' | 'token' | 'actor'>;
  fetch?: typeof fetch;
  timeoutMs?: number;
  out(text: string): void;
}

/** What the write did. */
export type LaunchConfigOutcome =
  | { kind: 'written'; version: number }
  | { kind: 'unchanged'; version: number }
  | { kind: 'previewed'; version: number };

/** Lifecycle states in which visitors may be on the canary: the launch config must wait. */
const LIVE_STATES = ['ramping', 'paused', 'promoted'];

/**
 * Previews the plan's config, then writes it with `If-Match` (unless `dryRun`). Throws the CLI's
 * errors: ApiError (exit 1) for a refusal, including a live launch and a `412`,
 * UnreachableError (exit 3).
 *
 * @example
 * await writeLaunchConfig(readLaunchPlan(), { connection, out: console.log }, { dryRun: true });
 * // Preview: version 0 → 1. … would write it: PUT /__rollout/config with If-Match: "0"
 */
export async function writeLaunchConfig(
  plan: LaunchPlan,
  context: LaunchConfigContext,
  options: { dryRun: boolean },
): Promise<LaunchConfigOutcome> {
  const { out } = context;
  const prefix = context.connection.prefix;
  const request = launchRequests(context);
  const read = await request('GET', '/state', StateBodySchema);
  const etag = IfMatchSchema.safeParse(read.etag ?? '');
  // The ETag is the committed version; the body carries it too, for a proxy that drops headers.
  const version = etag.success ? etag.data : read.data.version;
  if (LIVE_STATES.includes(read.data.state))
    throw new ApiError(
      `a launch is live (${read.data.state} at ${read.data.percent} %): the launch config would send every canary visitor back to stable and reset the flags. Finish it (promote, then finalize) or abort it first; nothing was written`,
      409,
    );
  out(`     current: ${read.data.state} at ${read.data.percent} %, config version ${version}`);
  const preview = await request(
    'POST',
    '/preview',
    PreviewAnswerSchema,
    { config: plan.config },
    { ifMatch: version },
  );
  for (const line of describePreview(preview.data)) out(`     ${line}`);
  if (!preview.data.changed) {
    out(`     ✔ the launch config is already in force (config version ${version})`);
    return { kind: 'unchanged', version };
  }
  if (options.dryRun) {
    out(`     would write it: PUT ${prefix}/config with If-Match: "${version}"`);
    return { kind: 'previewed', version };
  }
  const written = await request('PUT', '/config', WriteResultSchema, plan.config, { ifMatch: version });
  out(`     ✔ launch config written: config version ${version} → ${written.data.version}`);
  return { kind: 'written', version: written.data.version };
}

/** A signed QA link: the URL to open, and when it stops working. */
export type OverrideLink = z.infer<typeof OverrideLinkSchema>;

/**
 * `POST /override-link`: a signed link that pins the browser opening it to a cohort, for
 * `ttlSeconds`. Audited by the API as any admin call.
 *
 * @example
 * const { url, expiresAt } = await createOverrideLink({ connection, out }, 'canary', 3600);
 */
export async function createOverrideLink(
  context: Omit<LaunchConfigContext, 'out'>,
  cohort: 'stable' | 'canary',
  ttlSeconds: number,
): Promise<OverrideLink> {
  return (await launchRequests(context)('POST', '/override-link', OverrideLinkSchema, { cohort, ttlSeconds }))
    .data;
}

/**
 * The admin client's calls, with what a `412` means for the launch: someone wrote between the
 * read and the write, so nothing was written and a new run previews the current state.
 */
function launchRequests(context: Omit<LaunchConfigContext, 'out'>) {
  const client = createAdminClient({
    connection: context.connection,
    ...(context.fetch ? { fetch: context.fetch } : {}),
    ...(context.timeoutMs === undefined ? {} : { timeoutMs: context.timeoutMs }),
  });
  return async <S extends z.ZodMiniType>(
    method: string,
    path: string,
    schema: S,
    body?: object,
    options?: WriteOptions,
  ) => {
    try {
      return await client.call(method, path, schema, body, options);
    } catch (error) {
      if (error instanceof ApiError && error.status === 412)
        throw new ApiError(
          `${error.message}: someone changed the rollout since it was read; nothing was written, run again to preview the current state`,
          412,
          error.issues,
        );
      throw error;
    }
  };
}
