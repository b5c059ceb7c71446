import type { TestProject } from 'vitest/node';
import { startEchoOrigin } from './echo-origin';

declare module 'vitest' {
  export interface ProvidedContext {
    stablePort: number;
    canaryPort: number;
  }
}

/** Starts a stable and a canary echo origin on loopback for the workerd test projects. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stable = await startEchoOrigin('stable');
  const canary = await startEchoOrigin('canary');
  project.provide('stablePort', stable.port);
  project.provide('canaryPort', canary.port);
  return async () => {
    await Promise.all([stable.close(), canary.close()]);
  };
}
