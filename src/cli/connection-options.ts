import * as z from 'zod/mini';
import { ActorLabelSchema } from '../admin/admin-bodies';
import { describeIssues } from '../config/describe-issues';
import { UsageError } from './cli-errors';

/** The admin prefix the Worker uses unless `ADMIN_PREFIX` says otherwise. */
export const DEFAULT_ADMIN_PREFIX = '/__rollout';

const AdminUrlSchema = z.pipe(
  z.url({ protocol: /^https?$/, error: 'the URL must be an http(s) URL, e.g. https://app.example.com' }),
  z.transform((url) => url.replace(/\/+$/, '')),
);

// Issue messages never repeat the value, so a malformed token cannot end up on screen.
const TokenSchema = z
  .string()
  .check(z.regex(/^\S{1,4096}$/, 'the token must be 1–4096 characters without spaces'));

const PrefixSchema = z
  .string()
  .check(z.regex(/^\/[A-Za-z0-9_/-]{1,63}$/, 'the admin prefix starts with / and holds [A-Za-z0-9_/-]'));

/** A wrangler environment name (`--env production`), used in printed fallback commands. */
export const WranglerEnvSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'the wrangler environment is 1–64 chars of [A-Za-z0-9_-]'));

/** Where and how the CLI talks to the admin API, after flags and env vars are merged. */
export const ConnectionSchema = z.strictObject({
  url: AdminUrlSchema,
  token: z.optional(TokenSchema),
  actor: z.optional(ActorLabelSchema),
  prefix: z._default(PrefixSchema, DEFAULT_ADMIN_PREFIX),
  env: z.optional(WranglerEnvSchema),
});

/** A validated connection. */
export type Connection = z.infer<typeof ConnectionSchema>;

/** Connection settings given as flags; each wins over its env var. */
export interface ConnectionFlags {
  url?: string;
  token?: string;
  actor?: string;
  prefix?: string;
  env?: string;
}

/**
 * Merges `--url/--token/--actor/--prefix/--env` over `ROLLOUT_URL`, `ROLLOUT_TOKEN`,
 * `ROLLOUT_ACTOR`, `ROLLOUT_PREFIX` and `ROLLOUT_ENV`, and validates the result.
 * Throws a UsageError (exit 2) when something is missing or malformed.
 *
 * @example
 * resolveConnection({ actor: 'alice' }, process.env); // { url: 'https://…', token: '…', actor: 'alice', … }
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: Readonly<Record<string, string | undefined>>,
): Connection {
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] || undefined);
  const input = {
    url: pick(flags.url, 'ROLLOUT_URL'),
    token: pick(flags.token, 'ROLLOUT_TOKEN'),
    actor: pick(flags.actor, 'ROLLOUT_ACTOR'),
    prefix: pick(flags.prefix, 'ROLLOUT_PREFIX'),
    env: pick(flags.env, 'ROLLOUT_ENV'),
  };
  if (input.url === undefined) {
    throw new UsageError('no admin URL: set ROLLOUT_URL or pass --url https://app.example.com');
  }
  const result = ConnectionSchema.safeParse(input);
  if (!result.success) throw new UsageError(describeIssues(result.error).join('\n'));
  return result.data;
}
