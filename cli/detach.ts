import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { describeIssues } from '../src/config/parse-config';
import { EXIT_CODES, type ExitCode } from './errors';
import type { CliRuntime } from './run-cli';

/**
 * `rollout detach`: the way out on a first deploy, when there is no earlier Worker version to
 * roll back to. It takes the edge Worker out of the request path by deleting its zone routes
 * through the Cloudflare API, so the hostname is served by its DNS record (the stable origin)
 * again. It refuses unless every route's hostname has a proxied DNS record that points at the
 * stable origin's host: anything else (no record, as with a Custom Domain or a route-only
 * hostname; a placeholder such as 192.0.2.1; a record to another host; a grey-cloud record) would
 * make removing the route an outage. The removed routes are recorded in
 * `LAUNCH_STATE_DIR/<env>.detached`, which `production-deploy.sh` refuses to run past, and which
 * `rollout detach --reattach` reads to put the routes back. `scripts/rollback.sh --detach` calls it.
 */

/** The subcommand's name: `npx rollout detach …`. */
export const DETACH_COMMAND = 'detach';

/** The Cloudflare API v4 envelope every answer comes in. */
const EnvelopeSchema = z.object({
  success: z.boolean(),
  errors: z.array(z.object({ code: z.optional(z.number()), message: z.string() })),
  result: z.unknown(),
});

const RouteSchema = z.object({ id: z.string(), pattern: z.string(), script: z.optional(z.string()) });
const DnsRecordSchema = z.object({
  name: z.string(),
  type: z.string(),
  content: z.string(),
  proxied: z.optional(z.boolean()),
});

/** A zone route of the Workers API. */
export type WorkerRoute = z.infer<typeof RouteSchema>;
/** A DNS record of the zone (only the fields the check reads). */
export type DnsRecord = z.infer<typeof DnsRecordSchema>;

/** What `rollout detach` is told, validated. */
const DetachArgsSchema = z.strictObject({
  zone: z.string().check(z.regex(/^[0-9a-f]{32}$/, '--zone must be the zone id (32 hex characters)')),
  worker: z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, '--worker must be a Worker name')),
  stableOrigin: z.url({ protocol: /^https?$/, error: '--stable-origin must be an http(s) URL' }),
  env: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, '--env must be 1-64 chars of [A-Za-z0-9_-]')),
  stateDir: z.string().check(z.minLength(1)),
  dryRun: z.boolean(),
  reattach: z.boolean(),
});

type DetachArgs = z.infer<typeof DetachArgsSchema>;

/** The record a detachment leaves, so the routes can be put back. */
export const DetachRecordSchema = z.object({
  detachedAt: z.iso.datetime(),
  zone: z.string(),
  worker: z.string(),
  routes: z.array(z.object({ pattern: z.string(), script: z.string() })),
});

/** One route's verdict: it may go, or why removing it would be an outage. */
export interface RouteCheck {
  route: WorkerRoute;
  hostname: string;
  ok: boolean;
  why: string;
}

/**
 * Checks the edge Worker's routes against the zone's DNS records, pure. A route may go only when
 * its hostname (no wildcard) has a proxied A, AAAA or CNAME record whose content is the stable
 * origin's host: then, without the route, Cloudflare serves the hostname from stable.
 *
 * @example
 * checkRoutes([{ id: 'r1', pattern: 'app.example.com/*', script: 'edge' }],
 *   [{ name: 'app.example.com', type: 'CNAME', content: 'stable.example.net', proxied: true }], 'stable.example.net');
 * // [{ ok: true, hostname: 'app.example.com', why: 'proxied CNAME → stable.example.net', … }]
 */
export function checkRoutes(
  routes: readonly WorkerRoute[],
  records: readonly DnsRecord[],
  stableHost: string,
): RouteCheck[] {
  return routes.map((route) => {
    const hostname = route.pattern.split('/')[0]!.toLowerCase();
    const refuse = (why: string): RouteCheck => ({ route, hostname, ok: false, why });
    if (hostname.includes('*'))
      return refuse(`a wildcard hostname cannot be checked against one DNS record; remove it by hand`);
    const mine = records.filter(
      (record) => record.name.toLowerCase() === hostname && ['A', 'AAAA', 'CNAME'].includes(record.type),
    );
    if (mine.length === 0)
      return refuse(
        `no A/AAAA/CNAME record for ${hostname} (a Custom Domain or a route-only hostname): without the route nothing would answer`,
      );
    const toStable = mine.filter((record) => record.content.toLowerCase() === stableHost);
    if (toStable.length === 0)
      return refuse(
        `its DNS ${mine.map((r) => `${r.type} → ${r.content}`).join(', ')} does not point at stable (${stableHost}): a placeholder or another host would answer`,
      );
    if (!toStable.every((record) => record.proxied === true))
      return refuse(`its DNS record to ${stableHost} is not proxied (grey cloud)`);
    return { route, hostname, ok: true, why: `proxied ${toStable[0]!.type} → ${stableHost}` };
  });
}

/** A failure of the Cloudflare API, with what it said. */
class CloudflareApiError extends Error {}

/** A small client of the Cloudflare API v4, for the three calls detach makes. */
function cloudflareApi(base: string, token: string, fetcher: typeof fetch) {
  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetcher(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new CloudflareApiError(`${method} ${path}: unreachable (${String(error)})`);
    }
    const parsed = EnvelopeSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success)
      throw new CloudflareApiError(`${method} ${path}: HTTP ${response.status}, not an API answer`);
    if (!response.ok || !parsed.data.success)
      throw new CloudflareApiError(
        `${method} ${path}: HTTP ${response.status}: ${parsed.data.errors.map((e) => e.message).join('; ') || 'failed'}`,
      );
    return parsed.data.result;
  }
  return {
    async routes(zone: string): Promise<WorkerRoute[]> {
      const result = z.array(RouteSchema).safeParse(await call('GET', `/zones/${zone}/workers/routes`));
      if (!result.success) throw new CloudflareApiError('workers routes: unexpected result');
      return result.data;
    },
    async dnsRecords(zone: string, name: string): Promise<DnsRecord[]> {
      const path = `/zones/${zone}/dns_records?name=${encodeURIComponent(name)}&per_page=100`;
      const result = z.array(DnsRecordSchema).safeParse(await call('GET', path));
      if (!result.success) throw new CloudflareApiError('dns records: unexpected result');
      return result.data;
    },
    deleteRoute: (zone: string, id: string) =>
      call('DELETE', `/zones/${zone}/workers/routes/${encodeURIComponent(id)}`),
    createRoute: (zone: string, route: { pattern: string; script: string }) =>
      call('POST', `/zones/${zone}/workers/routes`, route),
  };
}

/** The real API, unless CLOUDFLARE_API_BASE_URL (tests only) names a loopback stand-in. */
function apiBase(env: CliRuntime['env']): string {
  const override = env.CLOUDFLARE_API_BASE_URL;
  if (override === undefined || override === '') return 'https://api.cloudflare.com/client/v4';
  if (!/^http:\/\/127\.0\.0\.1:\d{1,5}(\/[\w/-]*)?$/.test(override))
    throw new UsageErrorLike('CLOUDFLARE_API_BASE_URL is for tests: only http://127.0.0.1:PORT is accepted');
  return override.replace(/\/$/, '');
}

class UsageErrorLike extends Error {}

const USAGE = `Usage: rollout detach --zone ZONE_ID --worker NAME --stable-origin URL --env NAME
                      [--state-dir DIR] [--dry-run] [--reattach]
Removes the edge Worker's zone routes (Cloudflare API; token in CLOUDFLARE_API_TOKEN), after
checking that each route's hostname has a proxied DNS record pointing at the stable origin's host.
Records them in DIR/<env>.detached (default DIR: $LAUNCH_STATE_DIR or .wrangler/launch).
--reattach puts the recorded routes back and deletes the record. See docs/ROLLBACK-PROCEDURE.md.`;

function parseArgs(argv: readonly string[], env: CliRuntime['env']): DetachArgs | { help: true } {
  const input: Record<string, string | boolean> = { dryRun: false, reattach: false };
  const names: Record<string, string> = {
    '--zone': 'zone',
    '--worker': 'worker',
    '--stable-origin': 'stableOrigin',
    '--env': 'env',
    '--state-dir': 'stateDir',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return { help: true };
    if (arg === '--dry-run') input.dryRun = true;
    else if (arg === '--reattach') input.reattach = true;
    else if (names[arg] !== undefined && argv[i + 1] !== undefined) input[names[arg]] = argv[++i]!;
    else throw new UsageErrorLike(`unknown or incomplete argument: ${arg}`);
  }
  input.stateDir ??= env.LAUNCH_STATE_DIR || '.wrangler/launch';
  const parsed = DetachArgsSchema.safeParse(input);
  if (!parsed.success) throw new UsageErrorLike(describeIssues(parsed.error).join('; '));
  return parsed.data;
}

/**
 * Runs `rollout detach` (or `--reattach`) and resolves to its exit code: 0 done (or, with
 * --dry-run, it would be done), 1 refused or the API failed (nothing was removed), 2 bad
 * arguments. Never throws.
 */
export async function runDetach(argv: readonly string[], runtime: CliRuntime): Promise<ExitCode> {
  const out = (text: string) => runtime.stdout(`${text}\n`);
  const err = (text: string) => runtime.stderr(`${text}\n`);
  let args: DetachArgs;
  let api: ReturnType<typeof cloudflareApi>;
  try {
    const parsed = parseArgs(argv, runtime.env);
    if ('help' in parsed) {
      out(USAGE);
      return EXIT_CODES.ok;
    }
    args = parsed;
    const token = runtime.env.CLOUDFLARE_API_TOKEN;
    if (!token)
      throw new UsageErrorLike('CLOUDFLARE_API_TOKEN is not set (Zone: Workers Routes edit, DNS read)');
    api = cloudflareApi(apiBase(runtime.env), token, runtime.fetch ?? fetch);
  } catch (error) {
    err(`rollout detach: ${(error as Error).message}`);
    return EXIT_CODES.usage;
  }
  const recordPath = join(args.stateDir, `${args.env}.detached`);
  try {
    return args.reattach
      ? await reattach(args, api, recordPath, out)
      : await detach(args, api, recordPath, out, err);
  } catch (error) {
    err(`rollout detach: ${(error as Error).message}`);
    return EXIT_CODES.api;
  }
}

async function detach(
  args: DetachArgs,
  api: ReturnType<typeof cloudflareApi>,
  recordPath: string,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<ExitCode> {
  const stableHost = new URL(args.stableOrigin).hostname.toLowerCase();
  const routes = (await api.routes(args.zone)).filter((route) => route.script === args.worker);
  if (routes.length === 0) {
    out(`No route of the zone runs ${args.worker}: nothing to detach.`);
    return EXIT_CODES.ok;
  }
  const hosts = [...new Set(routes.map((r) => r.pattern.split('/')[0]!.toLowerCase()))].filter(
    (host) => !host.includes('*'),
  );
  const records = (await Promise.all(hosts.map((host) => api.dnsRecords(args.zone, host)))).flat();
  const checks = checkRoutes(routes, records, stableHost);
  for (const check of checks)
    out(`${check.ok ? 'ok     ' : 'REFUSED'} ${check.route.pattern} (${check.route.id}): ${check.why}`);
  if (checks.some((check) => !check.ok)) {
    err(
      'Refused: removing these routes would be an outage, since the hostname would not be served by stable. Nothing was removed. Use bypass mode instead (docs/KILL-SWITCH.md, "Bypass").',
    );
    return EXIT_CODES.api;
  }
  if (args.dryRun) {
    out(`DRY RUN: would remove ${routes.length} route(s) and record them in ${recordPath}.`);
    return EXIT_CODES.ok;
  }
  const record = {
    detachedAt: new Date().toISOString(),
    zone: args.zone,
    worker: args.worker,
    routes: routes.map((route) => ({ pattern: route.pattern, script: args.worker })),
  };
  // Recorded before anything is removed: a failure half-way still leaves the way back.
  await mkdir(args.stateDir, { recursive: true });
  await writeFile(recordPath, `${JSON.stringify(record, null, 2)}\n`);
  for (const route of routes) {
    await api.deleteRoute(args.zone, route.id);
    out(`removed ${route.pattern}`);
  }
  out(
    `Detached: ${args.worker} is out of the request path; the hostnames are served by stable (${stableHost}).`,
  );
  out(`Recorded in ${recordPath}; production-deploy.sh refuses to run until the routes are back:`);
  out(
    `  npx rollout detach --reattach --zone ${args.zone} --worker ${args.worker} --stable-origin ${args.stableOrigin} --env ${args.env}`,
  );
  return EXIT_CODES.ok;
}

async function reattach(
  args: DetachArgs,
  api: ReturnType<typeof cloudflareApi>,
  recordPath: string,
  out: (text: string) => void,
): Promise<ExitCode> {
  let text: string;
  try {
    text = await readFile(recordPath, 'utf8');
  } catch {
    out(`No detachment recorded for env ${args.env} (${recordPath}): nothing to re-attach.`);
    return EXIT_CODES.ok;
  }
  let parsed: z.infer<typeof DetachRecordSchema>;
  try {
    parsed = DetachRecordSchema.parse(JSON.parse(text));
  } catch {
    throw new Error(`${recordPath} is not a detachment record; fix or delete it by hand`);
  }
  const present = new Set((await api.routes(parsed.zone)).map((route) => route.pattern));
  for (const route of parsed.routes) {
    if (args.dryRun) out(`DRY RUN: would restore ${route.pattern} → ${route.script}`);
    else if (present.has(route.pattern)) out(`already there: ${route.pattern}`);
    else {
      await api.createRoute(parsed.zone, route);
      out(`restored ${route.pattern} → ${route.script}`);
    }
  }
  if (!args.dryRun) {
    await rm(recordPath);
    out(`Re-attached; ${recordPath} deleted: deploys may run again.`);
  }
  return EXIT_CODES.ok;
}
