import * as z from 'zod/mini';
import { ErrorBodySchema } from './admin-schemas';
import { ADMIN_ROUTES, SHARED_SCHEMAS, type AdminRouteSpec, type NamedSchema } from './admin-routes';

/** An OpenAPI 3.1 document (only the parts this API uses are typed). */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  security: Record<string, string[]>[];
}

const STATUS_TEXT: Record<number, string> = {
  400: 'invalid input; nothing changed',
  401: 'missing or wrong credentials',
  403: 'invalid or expired override link',
  409: 'not allowed in the current lifecycle state',
  412: 'If-Match does not name the current version',
  422: 'too large to preview: preview fewer changes at a time',
  428: 'undo needs If-Match naming the version it undoes',
  429: 'too many failed authentications from this address (see Retry-After)',
  503: 'admin or override links not configured, or KV unavailable (see Retry-After)',
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });

/**
 * Generates the OpenAPI 3.1 description of the admin API from the route table and the same zod
 * schemas that validate requests, so the document cannot drift from the code. JSON Schema
 * 2020-12 (zod's default target) is OpenAPI 3.1's schema dialect.
 *
 * @example
 * const document = buildOpenApiDocument('/__rollout');
 * Object.keys(document.paths); // ['/health', '/state', '/percent', ...]
 */
export function buildOpenApiDocument(
  prefix: string,
  routes: readonly AdminRouteSpec[] = ADMIN_ROUTES,
): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    (paths[path] ??= {})[route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'edge-rollout admin API',
      version: '1',
      description: 'Canary percent, lifecycle, flags, kill switch, audit log and QA override links.',
    },
    servers: [{ url: prefix }],
    paths,
    components: {
      schemas: { ...components(routes, 'output'), ...components(routes, 'input') },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
        access: {
          type: 'apiKey',
          in: 'header',
          name: 'Cf-Access-Jwt-Assertion',
          description: 'Cloudflare Access JWT',
        },
      },
    },
    security: [{ bearer: [] }, { access: [] }],
  };
}

function operation(route: AdminRouteSpec): Record<string, unknown> {
  const responses: Record<string, unknown> = {
    [route.success.status]: {
      description: route.success.description,
      ...(route.success.body ? { content: json(ref(route.success.body.name)) } : {}),
    },
  };
  for (const status of route.errors)
    responses[status] = { description: STATUS_TEXT[status] ?? 'error', content: json(ref('Error')) };
  return {
    summary: route.summary,
    operationId: `${route.method}${route.path.replace(/[^A-Za-z]+(\w)?/g, (_, c: string = '') => c.toUpperCase())}`,
    ...(route.auth ? {} : { security: [] }),
    ...(parameters(route).length ? { parameters: parameters(route) } : {}),
    ...(route.body
      ? { requestBody: { required: route.body.required, content: json(ref(route.body.name)) } }
      : {}),
    responses,
  };
}

function parameters(route: AdminRouteSpec): unknown[] {
  const list: unknown[] = [];
  for (const [name, schema] of Object.entries(route.params ?? {}))
    list.push({ name, in: 'path', required: true, schema: jsonSchema(schema, 'input') });
  if (route.query) {
    const query = jsonSchema(route.query, 'input') as {
      properties?: Record<string, unknown>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(query.properties ?? {}))
      list.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
  }
  if (route.ifMatch)
    list.push({
      name: 'If-Match',
      in: 'header',
      required: false,
      description: 'The config version the change is based on; a mismatch is answered with 412',
      schema: { type: 'string', pattern: '^"?\\d+"?$' },
    });
  return list;
}

// Responses describe what the API sends (defaults applied); request bodies what it accepts.
function components(routes: readonly AdminRouteSpec[], io: 'input' | 'output'): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  const named: NamedSchema[] =
    io === 'output'
      ? [
          ...SHARED_SCHEMAS,
          { name: 'Error', schema: ErrorBodySchema },
          ...routes.flatMap((route) => (route.success.body ? [route.success.body] : [])),
        ]
      : routes.flatMap((route) => (route.body ? [route.body] : []));
  for (const { name, schema } of named) if (!registry.has(schema)) registry.add(schema, { id: name });
  const { schemas } = z.toJSONSchema(registry, {
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, withoutIds(schema)]));
}

function jsonSchema(schema: z.core.$ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return withoutIds(z.toJSONSchema(schema, { io, unrepresentable: 'any' }));
}

function withoutIds(schema: object): Record<string, unknown> {
  const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
  return rest;
}
