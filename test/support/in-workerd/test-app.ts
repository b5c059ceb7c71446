import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { inject } from 'vitest';
import { CachedConfigStore } from '../../../src/config/cached-config-store';
import { safeDefaultConfig } from '../../../src/config/config-schema';
import { parseSettings } from '../../../src/config/settings';
import type { Clock, Logger } from '../../../src/ports';
import { RecordingMetricsSink } from '../core-fixtures';
import { overrideReader } from '../../../src/admin/override-token';
import { createControlApp } from '../../../worker/control/control-app';
import type { ControlDeps } from '../../../worker/control/control-deps';
import { scheduled } from '../../../worker/control/scheduled';
import { controlPlaneFor } from '../../../worker/control/single-writer/control-plane';
import { controlForward } from '../../../worker/edge/control-forward';
import { errorRelay } from '../../../worker/edge/error-relay';
import { errorReportersByVersion } from '../../../worker/shared/sentry/error-reporter';
import { createEdgeApp } from '../../../worker/edge/edge-app';
import type { EdgeDeps } from '../../../worker/edge/edge-deps';
import { KvRawConfigSource } from '../../../worker/shared/kv-config-source';

/** Both planes' deps: the test app wires the edge and the control Worker from one object. */
export type PlaneDeps = EdgeDeps & ControlDeps;

/** The Worker env the tests run in: the control Worker's (it holds the Durable Object). */
type Env = ControlEnv;

let controlApps = 0;

/** A control-plane object name no other test app uses (the objects outlive a test). */
export function uniqueControlName(): string {
  return `test-${++controlApps}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(public ms = Date.UTC(2026, 10, 25, 12)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A logger that keeps every line, so tests can count incidents. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  info(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'error', message, fields });
  }
}

/** Counts reads on a KV namespace while passing them through to the real (Miniflare) one. */
export function countingKv(kv: KVNamespace): { kv: KVNamespace; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === 'get' && typeof value === 'function') {
        return (...args: unknown[]) => {
          reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { kv: proxy, reads: () => reads };
}

/** Vars for tests: the loopback echo origins started by the global setup. */
export function testVars(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    STABLE_ORIGIN: `http://127.0.0.1:${inject('stablePort')}`,
    CANARY_ORIGIN: `http://127.0.0.1:${inject('canaryPort')}`,
    DEFAULT_FLAGS: '{"fileStorage":false,"templates":false,"emailDelivery":false,"analytics":true}',
    ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
    OVERRIDE_SECRET: 'test-override-secret-0123456789abcdef',
    CONFIG_CACHE_SECONDS: '5',
    ...overrides,
  };
}

/**
 * Both Workers wired like production, in one isolate, but to loopback origins, a manual clock and
 * recording ports: the edge app, whose admin prefix (and the `cockpit.localhost` host) goes
 * through the real forwarder to the control app, as the service binding would carry it.
 */
export function testApp(
  options: {
    vars?: Record<string, string>;
    kv?: KVNamespace;
    deps?: Partial<PlaneDeps>;
    /** The control-plane object to use; by default a fresh one per app, so tests start clean. */
    controlName?: string;
  } = {},
) {
  const vars = testVars(options.vars);
  const parsed = parseSettings(vars);
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const settings = parsed.settings;
  const clock = new ManualClock();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetricsSink();
  const kv = options.kv ?? (env as unknown as Env).ROLLOUT;
  const store = new CachedConfigStore(new KvRawConfigSource(kv), {
    ttlMs: parsed.settings.CONFIG_CACHE_SECONDS * 1000,
    clock,
    logger,
    safeDefault: safeDefaultConfig(parsed.settings.DEFAULT_FLAGS),
  });
  const controlName = options.controlName ?? uniqueControlName();
  const testEnv = { ...(env as unknown as Env), ...vars, ROLLOUT: kv } as Env;
  let ctx = createExecutionContext();
  // The service binding: requests reach the in-process control app, as they would the control Worker.
  let controlApp: ReturnType<typeof createControlApp> | undefined;
  const binding = { fetch: async (forwarded: Request) => controlApp!.fetch(forwarded, testEnv, ctx) };
  const workerVersion = options.deps?.workerVersion ?? 'test-version';
  const deps: PlaneDeps = {
    settings: parsed.settings,
    kv,
    control: controlPlaneFor((env as unknown as Env).CONTROL, settings, logger, controlName),
    store,
    clock,
    logger,
    fetch: (input, init) => fetch(input, init),
    metrics,
    // As in production: the edge relays its reports to the control Worker, which sends them to
    // Sentry when SENTRY_DSN is set (and drops them otherwise).
    errorReporterFor: errorRelay({ binding, workerVersion, logger: options.deps?.logger ?? logger }),
    workerVersion,
    readOverride: overrideReader(parsed.settings.OVERRIDE_SECRET, clock),
    ...options.deps,
  };
  controlApp = createControlApp({
    ...deps,
    relayedReporterFor: errorReportersByVersion(settings, deps.logger),
    runGuardNow: (runEnv, runCtx) =>
      scheduled(
        { cron: 'api', scheduledTime: clock.now(), noRetry() {} },
        runEnv as Env,
        runCtx ?? createExecutionContext(),
      ),
  });
  const forwardToControl = controlForward({
    binding,
    workerVersion: deps.workerVersion,
    logger,
  });
  const app = createEdgeApp({ ...deps, forwardToControl, cockpitHost: 'cockpit.localhost' });
  async function request(input: string | Request, init?: RequestInit): Promise<Response> {
    const req =
      typeof input === 'string' ? new Request(new URL(input, 'https://app.example.com'), init) : input;
    ctx = createExecutionContext();
    const response = await app.fetch(req, testEnv, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }
  /** An admin API call with the test token, on the app's host: the status and the parsed JSON body. */
  async function admin(method: string, path: string, body?: unknown) {
    const response = await request(`${settings.ADMIN_PREFIX}${path}`, {
      method,
      headers: { authorization: `Bearer ${vars.ADMIN_TOKEN}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // Tests read whichever fields the route returns.
    return { status: response.status, body: (await response.json()) as any };
  }
  return {
    app,
    controlApp,
    deps,
    clock,
    logger,
    metrics,
    store,
    kv,
    env: testEnv,
    request,
    admin,
    controlName,
  };
}

/** Writes a config to the real Miniflare KV. */
export async function putConfig(kv: KVNamespace, config: unknown): Promise<void> {
  await kv.put('config', typeof config === 'string' ? config : JSON.stringify(config));
}

/** A valid config for tests: N % canary and the four invoicing flags. */
export function configAt(percent: number, extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    rollout: { percent, salt: 'launch-1', state: percent > 0 ? 'ramping' : 'idle' },
    flags: {
      fileStorage: { enabled: true, percent: 50 },
      templates: { enabled: true, percent: 50 },
      emailDelivery: { enabled: false },
      analytics: { enabled: true, percent: 100 },
    },
    ...extra,
  };
}
