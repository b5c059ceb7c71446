import { describe, expect, it } from 'vitest';
import { classifyRoute, compilePathPattern, MAX_MATCHED_PATH } from '../../src/metrics/business-routes';

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
    ['/docs/*/*/*/edit', '/docs/a/b/c/edit', true],
    ['/docs/*/*/*/edit', '/docs////edit', true],
    ['/docs/*/*/*/edit', '/docs/a/b/c/edit/x', false],
    ['/docs/*.png', '/docs/a/b.png', true],
    ['/docs/*.png', '/docs/a/b.jpg', false],
    ['/u/:id-:slug', '/u/7-hello-world', true],
    ['/u/:id-:slug', '/u/7-', false],
    ['/u/:id/*', '/u/7/', true],
    ['/u/:id/*', '/u//x', false],
    ['*', '/anything/at/all', true],
    ['/a**b', '/a/x/b', true],
  ])('%s against %s → %s', (pattern, path, matches) => {
    expect(compilePathPattern(pattern).test(path)).toBe(matches);
  });
});

describe('matching cost', () => {
  // A backtracking RegExp (`*` as `.*`) took 8 s on the first and over 90 s on the second; the
  // default test timeout is the bound here, the answers are what is asserted.
  it.each([
    ['/docs/*/*/*/edit', `/docs/${'/'.repeat(2000)}x`],
    ['/*/*/*/*/edit', `${'/'.repeat(1000)}x`],
    ['/:a/:b/:c/:d/*/*/*/edit', `${'/a'.repeat(1000)}/x`],
  ])('answers %s against a hostile path of %#', (pattern, path) => {
    expect(compilePathPattern(pattern).test(path)).toBe(false);
    expect(compilePathPattern(pattern).test(`${path}/edit`)).toBe(path.length + 5 <= MAX_MATCHED_PATH);
  });

  it('classifies a path longer than the cap as other, without matching it', () => {
    const routes = [{ name: 'files', method: 'GET', pattern: '/files/*', success: '2xx' } as const];
    expect(classifyRoute({ routes }, 'GET', `/files/${'a'.repeat(MAX_MATCHED_PATH)}`, 200)).toEqual({
      route: 'other',
    });
    expect(classifyRoute({ routes }, 'GET', '/files/a', 200).route).toBe('files');
  });
});
