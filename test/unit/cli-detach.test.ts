import { describe, expect, it } from 'vitest';
import { checkRoutes } from '../../cli/detach';

const route = (pattern: string) => ({ id: 'r1', pattern, script: 'edge' });
const cname = (name: string, content: string, proxied = true) => ({ name, type: 'CNAME', content, proxied });

describe('rollout detach: which routes may go', () => {
  it('lets a route go when its hostname has a proxied record to the stable host (any case)', () => {
    const [check] = checkRoutes(
      [route('App.Example.com/*')],
      [cname('app.example.com', 'Stable.example.net')],
      'stable.example.net',
    );
    expect(check).toMatchObject({ ok: true, hostname: 'app.example.com' });
  });

  it('refuses a wildcard, a missing record, another target and a grey-cloud record, saying which', () => {
    const checks = checkRoutes(
      [
        route('*.example.com/*'),
        route('a.example.com/*'),
        route('b.example.com/*'),
        route('c.example.com/*'),
      ],
      [
        cname('b.example.com', 'placeholder.example.org'),
        cname('c.example.com', 'stable.example.net', false),
      ],
      'stable.example.net',
    );
    expect(checks.map((check) => check.ok)).toEqual([false, false, false, false]);
    expect(checks.map((check) => check.why)).toEqual([
      expect.stringMatching(/wildcard/),
      expect.stringMatching(/no A\/AAAA\/CNAME record/),
      expect.stringMatching(/does not point at stable/),
      expect.stringMatching(/not proxied/),
    ]);
  });
});
