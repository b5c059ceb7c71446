import { afterAll, beforeAll } from 'vitest';
import { startEchoOrigin } from '../loopback/echo-origin';
import type { LoopbackServer } from '../loopback/loopback-server';
import { startLocalWorker, type LocalWorker } from './wrangler-dev';

/** What a system test drives; filled in by the beforeAll this registers. */
export interface LocalWorkerBehindEchoOrigins {
  stable: LoopbackServer;
  canary: LoopbackServer;
  worker: LocalWorker;
}

/** Options of {@link localWorkerBehindEchoOrigins}. */
export interface EchoOriginsWorkerOptions {
  /**
   * More vars, read when the Worker starts (after every earlier `beforeAll`), for values only
   * known then, such as the port of a loopback server the suite starts itself.
   */
  lateVars?: () => Record<string, string>;
  /** Put a switchable fault between the edge and the control Worker (see {@link LocalWorker.setControlDown}). */
  controlFault?: boolean;
}

/**
 * Registers the suite's setup and teardown: a stable and a canary echo origin on loopback and
 * `npm run dev` in front of them (the documented local run), with the given extra vars.
 *
 * @example
 * const world = localWorkerBehindEchoOrigins({ ADMIN_TOKEN: TOKEN });
 * it('…', async () => { await fetch(world.worker.url); });
 */
export function localWorkerBehindEchoOrigins(
  vars: Record<string, string>,
  options: EchoOriginsWorkerOptions = {},
): LocalWorkerBehindEchoOrigins {
  const world = {} as LocalWorkerBehindEchoOrigins;
  beforeAll(async () => {
    world.stable = await startEchoOrigin('stable');
    world.canary = await startEchoOrigin('canary');
    world.worker = await startLocalWorker(
      {
        STABLE_ORIGIN: `http://127.0.0.1:${world.stable.port}`,
        CANARY_ORIGIN: `http://127.0.0.1:${world.canary.port}`,
        ...vars,
        ...options.lateVars?.(),
      },
      { controlFault: options.controlFault },
    );
  }, 90_000);
  afterAll(async () => {
    await world.worker?.stop();
    await Promise.all([world.stable?.close(), world.canary?.close()]);
  });
  return world;
}
