import { describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../src/admin/admin-routes';
import { createAdminApp } from '../../worker/control/admin/admin-app';
import { testApp } from '../support/in-workerd/test-app';

const TOKEN = 'test-admin-token-0123456789abcdef';

describe('GET /openapi.json', () => {
  it('lists every route the admin sub-app serves, and no other', async () => {
    const { request, deps } = testApp();
    const response = await request('/__rollout/openapi.json', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const document = (await response.json()) as {
      openapi: string;
      servers: { url: string }[];
      paths: Record<string, object>;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers[0]?.url).toBe('/__rollout');
    const documented = Object.entries(document.paths)
      .flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      )
      .sort();
    const served = [
      ...new Set(
        createAdminApp(deps)
          .routes.filter((route) => route.method !== 'ALL')
          .map((route) => `${route.method} ${route.path}`),
      ),
    ].sort();
    expect(documented).toEqual(served);
    expect(served).toHaveLength(ADMIN_ROUTES.length);
  });

  it('needs credentials like the other admin routes', async () => {
    const { request } = testApp();
    expect((await request('/__rollout/openapi.json')).status).toBe(401);
  });
});
