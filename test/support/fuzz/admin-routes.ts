import type * as z from 'zod/mini';
import {
  ConfigBodySchema,
  FlagBodySchema,
  KillBodySchema,
  OverrideLinkBodySchema,
  PercentBodySchema,
  ReasonBodySchema,
} from '../../../src/admin/admin-schemas';
import { TRANSITIONS } from '../../../src/admin/lifecycle';
import type { FuzzRandom } from './random';

/** What a valid body may refer to: the origins and flag names of the Worker under test. */
export interface FuzzWorld {
  origins: { stable: string; canary: string };
  flagNames: readonly string[];
}

/** One admin write route, with the schema that decides whether a body is valid. */
export interface FuzzAdminRoute {
  key: string;
  method: 'PUT' | 'POST' | 'DELETE';
  /** The path under the admin prefix; `/flags/:name` gets a name per case. */
  path: string;
  schema: z.ZodMiniType;
  /** Whether an empty body is refused (otherwise it reads as `{}`). */
  required: boolean;
  /** Whether the route honours `If-Match`. */
  usesIfMatch: boolean;
  /** A body the schema accepts. */
  validBody(random: FuzzRandom, world: FuzzWorld): Record<string, unknown>;
}

const PERCENTS = [0, 1, 5, 10, 12.5, 25, 33.33, 50, 75, 99.99, 100];

function withReason(random: FuzzRandom, body: Record<string, unknown>): Record<string, unknown> {
  return random.chance(0.3) ? { ...body, reason: `fuzz ${random.text(1 + random.int(40))}` } : body;
}

function validConfig(random: FuzzRandom, world: FuzzWorld): Record<string, unknown> {
  const percent = random.pick(PERCENTS);
  const config: Record<string, unknown> = {
    rollout: { percent, salt: `fuzz-salt-${random.int(1000)}` },
    flags: Object.fromEntries(
      world.flagNames
        .filter(() => random.chance(0.7))
        .map((name) => [name, { enabled: random.chance(0.5), percent: random.pick(PERCENTS) }]),
    ),
  };
  if (random.chance(0.5)) config.origins = { ...world.origins };
  if (random.chance(0.5))
    config.failover = { timeoutMs: random.pick([100, 300, 10_000]), statuses: [502, 503] };
  if (random.chance(0.3)) config.bootstrapFlags = random.chance(0.5);
  if (random.chance(0.3))
    config.routes = [{ name: 'invoice_created', method: 'POST', pattern: '/api/invoices' }];
  if (random.chance(0.2)) config.stickiness = { cookieName: 'rollout_id', maxAgeSeconds: 86_400 };
  return config;
}

const reasonOnly = (random: FuzzRandom) => withReason(random, {});

const TRANSITION_ROUTES = TRANSITIONS.map((name): FuzzAdminRoute => ({
  key: `POST /${name}`,
  method: 'POST',
  path: `/${name}`,
  schema: ReasonBodySchema,
  required: false,
  usesIfMatch: true,
  validBody: reasonOnly,
}));

/**
 * Every admin write route, with its body schema and a generator of valid bodies.
 *
 * @example
 * const route = random.pick(FUZZ_ADMIN_ROUTES);
 */
export const FUZZ_ADMIN_ROUTES: readonly FuzzAdminRoute[] = [
  {
    key: 'PUT /percent',
    method: 'PUT',
    path: '/percent',
    schema: PercentBodySchema,
    required: true,
    usesIfMatch: true,
    validBody: (random) => withReason(random, { percent: random.pick(PERCENTS) }),
  },
  {
    key: 'PUT /config',
    method: 'PUT',
    path: '/config',
    schema: ConfigBodySchema,
    required: true,
    usesIfMatch: true,
    validBody: validConfig,
  },
  {
    key: 'PUT /flags/:name',
    method: 'PUT',
    path: '/flags/:name',
    schema: FlagBodySchema,
    required: true,
    usesIfMatch: true,
    validBody: (random) =>
      withReason(
        random,
        random.chance(0.5)
          ? { enabled: random.chance(0.5) }
          : { enabled: random.chance(0.5), percent: random.pick(PERCENTS) },
      ),
  },
  ...TRANSITION_ROUTES,
  {
    key: 'PUT /kill',
    method: 'PUT',
    path: '/kill',
    schema: KillBodySchema,
    required: true,
    usesIfMatch: true,
    validBody: (random, world) =>
      withReason(
        random,
        random.pick([{ canary: true }, { allFlags: true }, { flags: [random.pick(world.flagNames)] }]),
      ),
  },
  {
    key: 'DELETE /kill',
    method: 'DELETE',
    path: '/kill',
    schema: ReasonBodySchema,
    required: false,
    usesIfMatch: true,
    validBody: reasonOnly,
  },
  {
    key: 'POST /override-link',
    method: 'POST',
    path: '/override-link',
    schema: OverrideLinkBodySchema,
    required: true,
    usesIfMatch: false,
    validBody: (random) =>
      random.chance(0.5)
        ? { cohort: random.pick(['stable', 'canary']) }
        : { cohort: random.pick(['stable', 'canary']), ttlSeconds: random.pick([60, 3600, 604_800]) },
  },
];
