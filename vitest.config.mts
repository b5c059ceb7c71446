import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Four layers: unit tests of the core in Node (in-process only, no child processes: it stays
// under 15 s); integration tests through the Worker in workerd with real Miniflare KV from
// wrangler.toml; e2e tests against real origins on loopback; system tests that drive the real
// Worker, the CLI and the scripts from Node. Each harness lives in a folder of test/support/.
const workerd = (name: string, include: string[], globalSetup?: string[]) => ({
  plugins: [
    cloudflareTest({
      main: './worker/index.ts',
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
          OVERRIDE_SECRET: 'test-override-secret',
        },
      },
    }),
  ],
  test: { name, include, globalSetup, testTimeout: 30_000, hookTimeout: 30_000 },
});

export default defineConfig({
  test: {
    projects: [
      // Unit tests are pure and reset what they spy on, so files share one module graph per
      // worker (isolate: false): the layer runs in about 5 s instead of 15.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', isolate: false } },
      workerd(
        'integration',
        ['test/integration/**/*.test.ts'],
        ['./test/support/loopback/echo-origins.global-setup.ts', './test/support/sentry/global-setup.ts'],
      ),
      workerd(
        'e2e',
        ['test/e2e/**/*.test.ts'],
        [
          './test/support/loopback/echo-origins.global-setup.ts',
          './test/support/fake-sql-api/global-setup.ts',
          './test/support/sentry/global-setup.ts',
        ],
      ),
      // Node-side tests of the real Worker: CLI, scripts, demo and fidelity under `wrangler dev`;
      // soak, faults and fuzz on the bundled Worker in Miniflare; every command line in the docs,
      // run for real (dry runs and --help).
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
