import { describe, expect, it } from 'vitest';
import type { BusinessRoute } from '../../src/config/config-schema';
import { businessRouteMatchers, classifyRoute, routeSucceeded } from '../../src/metrics/business-routes';
import { EXAMPLE_ROUTES } from '../support/core-fixtures';

const config = { routes: EXAMPLE_ROUTES };

describe('classifyRoute with the invoicing example routes', () => {
  it.each([
    ['POST', '/api/invoices', 201, { route: 'invoice_created', routeSuccess: true }],
    ['POST', '/api/invoices', 422, { route: 'invoice_created', routeSuccess: false }],
    ['POST', '/api/templates/t-1/use', 200, { route: 'template_used', routeSuccess: true }],
    ['POST', '/api/invoices/inv_7/send', 202, { route: 'email_sent', routeSuccess: true }],
    ['POST', '/api/invoices/inv_7/send', 503, { route: 'email_sent', routeSuccess: false }],
    ['POST', '/api/files', 0, { route: 'file_upload', routeSuccess: false }],
    ['GET', '/api/invoices', 200, { route: 'other' }],
    ['POST', '/api/invoices/inv_7', 200, { route: 'other' }],
    ['GET', '/', 200, { route: 'other' }],
  ])('%s %s answered %i → %o', (method, path, status, expected) => {
    expect(classifyRoute(config, method, path, status)).toEqual(expected);
  });

  it('takes the first configured route that matches', () => {
    const routes: BusinessRoute[] = [
      { name: 'special_upload', method: 'POST', pattern: '/api/files/special', success: '2xx' },
      { name: 'any_upload', method: 'POST', pattern: '/api/files/*', success: '2xx' },
    ];
    expect(classifyRoute({ routes }, 'POST', '/api/files/special', 200).route).toBe('special_upload');
    expect(classifyRoute({ routes }, 'POST', '/api/files/other', 200).route).toBe('any_upload');
  });

  it('compiles a config once and reuses it until the config object changes', () => {
    const first = { routes: [...EXAMPLE_ROUTES] };
    expect(businessRouteMatchers(first)).toBe(businessRouteMatchers(first));
    const next = { routes: [...EXAMPLE_ROUTES] };
    expect(businessRouteMatchers(next)).not.toBe(businessRouteMatchers(first));
  });
});

describe('routeSucceeded', () => {
  it.each([
    ['2xx', 200, true],
    ['2xx', 299, true],
    ['2xx', 302, false],
    ['2xx', 199, false],
    ['2xx-3xx', 302, true],
    ['2xx-3xx', 399, true],
    ['2xx-3xx', 400, false],
    ['2xx-3xx', 101, false],
    ['2xx-3xx', 0, false],
  ] as const)('%s counts %i as success: %s', (rule, status, success) => {
    expect(routeSucceeded(rule, status)).toBe(success);
  });
});
