import type { TestProject } from 'vitest/node';
import { startFakeSqlApi } from './server';
import { startWebhookReceiver } from './webhook-receiver';

declare module 'vitest' {
  export interface ProvidedContext {
    sqlApiPort: number;
    webhookPort: number;
  }
}

/** Starts the fake Analytics Engine SQL API and a webhook receiver on loopback for the guard's tests. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const sqlApi = await startFakeSqlApi();
  const webhooks = await startWebhookReceiver();
  project.provide('sqlApiPort', sqlApi.port);
  project.provide('webhookPort', webhooks.port);
  return async () => {
    await Promise.all([sqlApi.close(), webhooks.close()]);
  };
}
