import { afterAll, beforeAll } from 'vitest';
import { startFaultOrigin, type FaultOrigin } from '../loopback/fault-origin';
import { startMiniflareWorker, type MiniflareWorker, type MiniflareWorkerOptions } from './miniflare';

/** The pieces a reliability suite drives; filled in by its beforeAll. */
export interface WorkerBehindFaultOrigins {
  stable: FaultOrigin;
  canary: FaultOrigin;
  worker: MiniflareWorker;
}

/**
 * Registers the suite's setup and teardown: a stable and a canary fault origin on loopback and
 * the bundled Worker in Miniflare in front of them, with the given extra vars.
 *
 * @example
 * const world = workerBehindFaultOrigins({ ADMIN_TOKEN: TOKEN, CONFIG_CACHE_SECONDS: '1' });
 * it('…', async () => { await fetch(world.worker.url); });
 */
export function workerBehindFaultOrigins(
  vars: Record<string, string>,
  options: MiniflareWorkerOptions = {},
): WorkerBehindFaultOrigins {
  const world = {} as WorkerBehindFaultOrigins;
  beforeAll(async () => {
    world.stable = await startFaultOrigin('stable');
    world.canary = await startFaultOrigin('canary');
    world.worker = await startMiniflareWorker(
      { STABLE_ORIGIN: world.stable.url, CANARY_ORIGIN: world.canary.url, ...vars },
      options,
    );
  }, 90_000);
  afterAll(async () => {
    await world.worker?.dispose();
    await Promise.all([world.stable?.close(), world.canary?.close()]);
  });
  return world;
}
