import type { TestProject } from 'vitest/node';
import { startSentryReceiver } from './receiver';

declare module 'vitest' {
  export interface ProvidedContext {
    sentryPort: number;
  }
}

/** Starts the loopback Sentry receiver for the integration project. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const receiver = await startSentryReceiver();
  project.provide('sentryPort', receiver.port);
  return () => receiver.close();
}
