import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../src/admin/admin-routes';
import { buildOpenApiDocument } from '../../src/admin/openapi-document';
import committed from '../../worker/control/assets/openapi.json';

const COMMITTED_PATH = fileURLToPath(new URL('../../worker/control/assets/openapi.json', import.meta.url));

describe('OpenAPI document', () => {
  const document = buildOpenApiDocument('/__rollout');

  it('is committed as worker/assets/openapi.json exactly as generated (regenerate with `vitest run -u`)', async () => {
    // The Worker serves the committed file from its static assets: generating it at run time
    // would ship zod's JSON Schema generator (~12 KiB gzip) in the bundle for one rarely read
    // route, and importing it would carry the document itself (~4.5 KiB gzip).
    const options = { ...(await prettier.resolveConfig(COMMITTED_PATH)), parser: 'json' };
    const generated = await prettier.format(JSON.stringify(document), options);
    await expect(generated).toMatchFileSnapshot(COMMITTED_PATH);
    expect(committed).toEqual(document);
  });

  it('is OpenAPI 3.1 served under the admin prefix', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: '/__rollout' }]);
  });

  it('lists every route of the route table, each with a summary and responses', () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const expected = ADMIN_ROUTES.map(
      (r) => `${r.method.toUpperCase()} ${r.path.replace(':name', '{name}')}`,
    );
    expect(operations.sort()).toEqual(expected.sort());
    expect(operations).toEqual(
      expect.arrayContaining([
        'GET /health',
        'GET /state',
        'PUT /percent',
        'PUT /config',
        'PUT /flags/{name}',
        'POST /promote',
        'POST /finalize',
        'POST /abort',
        'POST /pause',
        'POST /resume',
        'POST /undo',
        'PUT /kill',
        'DELETE /kill',
        'GET /audit',
        'POST /override-link',
        'GET /override',
        'GET /openapi.json',
      ]),
    );
  });

  it('resolves every $ref to a component schema', () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1]!,
    );
    expect(refs.length).toBeGreaterThan(20);
    for (const name of new Set(refs)) expect(document.components.schemas, name).toHaveProperty(name);
  });

  it('derives request bodies from the strict zod schemas (unknown fields refused, bounds kept)', () => {
    const percent = document.components.schemas.PercentBody as Record<string, any>;
    expect(percent.additionalProperties).toBe(false);
    expect(percent.required).toEqual(['percent']);
    expect(percent.properties.percent).toMatchObject({ type: 'number', minimum: 0, maximum: 100 });
    const config = document.components.schemas.ConfigBody as Record<string, any>;
    expect(config.required).toEqual(['rollout']);
    expect(config.properties.rollout.properties.state.enum).toContain('paused');
  });

  it('marks /health and /override as needing no credentials, and everything else as authenticated', () => {
    for (const route of ADMIN_ROUTES) {
      const operation = document.paths[route.path.replace(':name', '{name}')]![route.method] as {
        security?: unknown[];
      };
      expect(operation.security, route.path).toEqual(route.auth ? undefined : []);
    }
    expect(ADMIN_ROUTES.filter((r) => !r.auth).map((r) => r.path)).toEqual(['/health', '/override']);
  });
});
