import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { request as httpRequest, createServer } from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import { startCollector } from '../../../scripts/demo/collector.mjs';
import { toDataPoint, type RequestMetric } from '../../../src/metrics/data-point-schema';
import { listenOnLoopback, type LoopbackServer } from '../loopback/loopback-server';
import {
  localWorkerBehindEchoOrigins,
  type LocalWorkerBehindEchoOrigins,
} from '../local-worker/wrangler-dev-behind-echo-origins';

/** The Access application's audience the stack is started with. */
export const ACCESS_AUD = 'cockpit-browser-aud';

/**
 * What the cockpit's browser tests drive: `npm run dev` in front of two echo origins, wired to the
 * demo's Analytics Engine stand-in (the collector: the Worker posts its data points there and the
 * guard and the cockpit's series route read them back through the SQL API's wire format), and to
 * a Cloudflare Access team domain on loopback (a JWKS the test signs JWTs for).
 */
export interface CockpitWorld extends LocalWorkerBehindEchoOrigins {
  collector: Awaited<ReturnType<typeof startCollector>>;
  /** The cockpit's own origin: `http://cockpit.localhost:PORT`. */
  cockpitOrigin: string;
  /** An Access JWT for `email`, as Access would put in `Cf-Access-Jwt-Assertion`. */
  accessJwt(email: string): Promise<string>;
  /** Stores data points in the collector now, as the Worker's sink would. */
  store(metrics: RequestMetric[]): Promise<void>;
  /** A GET on the cockpit's host from Node (whose resolver knows no `cockpit.localhost`). */
  getOnCockpitHost(path: string): Promise<{ status: number; headers: Record<string, string>; body: string }>;
}

/** Registers the world's setup and teardown around the suite. */
export function cockpitWorld(vars: Record<string, string>): CockpitWorld {
  const world = {} as CockpitWorld;
  let jwks: LoopbackServer;
  let keys: { privateKey: CryptoKey; publicJwk: JWK };
  beforeAll(async () => {
    world.collector = await startCollector();
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    keys = { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: 'cockpit-test', alg: 'RS256' } };
    jwks = await listenOnLoopback(
      createServer((req, res) => {
        res.writeHead(req.url === '/cdn-cgi/access/certs' ? 200 : 404, {
          'content-type': 'application/json',
        });
        res.end(JSON.stringify({ keys: [keys.publicJwk] }));
      }),
    );
  }, 30_000);
  const stack = localWorkerBehindEchoOrigins(vars, {
    lateVars: () => ({
      METRICS_COLLECTOR_URL: `${world.collector.url}/points`,
      ANALYTICS_SQL_BASE_URL: world.collector.url,
      CF_ACCOUNT_ID: world.collector.accountId,
      CF_API_TOKEN: world.collector.token,
      ACCESS_TEAM_DOMAIN: `http://127.0.0.1:${jwks.port}`,
      ACCESS_AUD,
    }),
  });
  beforeAll(() => {
    Object.assign(world, stack);
    world.cockpitOrigin = `http://cockpit.localhost:${stack.worker.port}`;
  });
  afterAll(async () => {
    await Promise.all([world.collector?.close(), jwks?.close()]);
  });
  world.accessJwt = async (email) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ email })
      .setProtectedHeader({ alg: 'RS256', kid: keys.publicJwk.kid! })
      .setIssuer(`http://127.0.0.1:${jwks.port}`)
      .setAudience(ACCESS_AUD)
      .setIssuedAt(now - 10)
      .setExpirationTime(now + 3600)
      .sign(keys.privateKey);
  };
  world.store = async (metrics) => {
    for (const metric of metrics) {
      const response = await fetch(`${world.collector.url}/points`, {
        method: 'POST',
        body: JSON.stringify(toDataPoint(metric)),
      });
      if (response.status !== 202) throw new Error(`the collector refused a point: ${response.status}`);
    }
  };
  world.getOnCockpitHost = (path) =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: stack.worker.port,
          path,
          headers: { host: `cockpit.localhost:${stack.worker.port}` },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  return world;
}

/** A proxied request's metric, as the splitter records it. */
export function requestMetric(overrides: Partial<RequestMetric>): RequestMetric {
  return {
    cohort: 'stable',
    assignedCohort: 'stable',
    configVersion: 1,
    workerVersion: 'local',
    method: 'GET',
    route: 'other',
    status: 200,
    outcome: 'ok',
    colo: 'local',
    country: 'XX',
    totalMs: 20,
    upstreamMs: 15,
    failover: false,
    ...overrides,
  };
}
