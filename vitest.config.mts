import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { buildControlWorker } from './test/support/in-workerd/control-build.ts';

// Five layers: unit tests of the core in Node (in-process only, no child processes: it stays
// under 15 s); integration tests in workerd, one project per Worker (cloudflare:test helpers and
// cron triggering work only for a project's main Worker): the control Worker's project runs both
// planes' code with real Miniflare bindings, the edge's project runs the edge beside the built
// control Worker over its real service binding; e2e tests against real origins on loopback;
// system tests that drive the real stack (`npm run dev`), the CLI and the scripts from Node.
// Each harness lives in a folder of test/support/.
const TEST_SECRETS = {
  ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
  OVERRIDE_SECRET: 'test-override-secret-0123456789abcdef',
};

const controlWorkerd = (name: string, include: string[], globalSetup?: string[]) => ({
  plugins: [
    cloudflareTest({
      main: './worker/control/index.ts',
      wrangler: { configPath: './worker/control/wrangler.toml' },
      miniflare: { bindings: TEST_SECRETS },
    }),
  ],
  test: { name, include, globalSetup, testTimeout: 30_000, hookTimeout: 30_000 },
});

/** The edge as the main Worker, with the control Worker (bundled once, when needed) beside it. */
const edgeWorkerd = (name: string, include: string[], globalSetup?: string[]) => ({
  plugins: [
    cloudflareTest(() => ({
      main: './worker/edge/index.ts',
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: { OVERRIDE_SECRET: TEST_SECRETS.OVERRIDE_SECRET },
        workers: [
          {
            name: 'edge-rollout-control',
            modules: true,
            scriptPath: buildControlWorker(),
            compatibilityDate: '2026-04-01',
            kvNamespaces: { ROLLOUT: '00000000000000000000000000000000' },
            durableObjects: { CONTROL: { className: 'RolloutControl', useSQLite: true } },
            bindings: {
              ...TEST_SECRETS,
              STABLE_ORIGIN: 'http://127.0.0.1:8701',
              CANARY_ORIGIN: 'http://127.0.0.1:8702',
              DEFAULT_FLAGS: '{"fileStorage":false,"templates":false,"emailDelivery":false,"analytics":true}',
              ENVIRONMENT: 'development',
            },
          },
        ],
      },
    })),
  ],
  test: { name, include, globalSetup, testTimeout: 30_000, hookTimeout: 30_000 },
});

export default defineConfig({
  test: {
    projects: [
      // Unit tests are pure and reset what they spy on, so files share one module graph per
      // worker (isolate: false): the layer runs in about 5 s instead of 15.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', isolate: false } },
      controlWorkerd(
        'integration',
        ['test/integration/**/*.test.ts'],
        ['./test/support/loopback/echo-origins.global-setup.ts', './test/support/sentry/global-setup.ts'],
      ),
      edgeWorkerd(
        'integration-edge',
        ['test/integration-edge/**/*.test.ts'],
        ['./test/support/loopback/echo-origins.global-setup.ts'],
      ),
      controlWorkerd(
        'e2e',
        ['test/e2e/**/*.test.ts'],
        [
          './test/support/loopback/echo-origins.global-setup.ts',
          './test/support/fake-sql-api/global-setup.ts',
          './test/support/sentry/global-setup.ts',
        ],
      ),
      // Node-side tests of the real stack: CLI, scripts, demo and fidelity under `npm run dev`;
      // soak, faults and fuzz; every command line in the docs, run for real (dry runs and --help).
      {
        test: {
          name: 'system',
          include: ['test/system/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
