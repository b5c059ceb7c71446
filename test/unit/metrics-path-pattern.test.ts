import { describe, expect, it } from 'vitest';
import { compilePathPattern } from '../../src/metrics/business-routes';

describe('compilePathPattern', () => {
  it.each([
    ['/api/invoices', '/api/invoices', true],
    ['/api/invoices', '/api/invoices/', false],
    ['/api/invoices', '/api/invoices/42', false],
    ['/api/invoices', '/x/api/invoices', false],
    ['/api/templates/:id/use', '/api/templates/42/use', true],
    ['/api/templates/:id/use', '/api/templates/tpl_9-a/use', true],
    ['/api/templates/:id/use', '/api/templates//use', false],
    ['/api/templates/:id/use', '/api/templates/4/2/use', false],
    ['/files/*', '/files/logos/acme.png', true],
    ['/files/*', '/files/', true],
    ['/files/*', '/filesystem', false],
    ['/v1.0/ping', '/v1.0/ping', true],
    ['/v1.0/ping', '/v1x0/ping', false],
    ['/a+b/(c)', '/a+b/(c)', true],
    ['/a+b/(c)', '/aab/c', false],
    ['/time/12:30', '/time/12:30', true],
  ])('%s against %s → %s', (pattern, path, matches) => {
    expect(compilePathPattern(pattern).test(path)).toBe(matches);
  });
});
