import { describe, expect, it } from 'vitest';
import { flagsScript } from '../../src/proxy/flags-bootstrap';
import { configAt, putConfig, testApp } from '../support/in-workerd/test-app';

describe('HTML flags bootstrap', () => {
  it('injects window.__FLAGS__ at the start of <head> when enabled', async () => {
    const { request, kv } = testApp();
    await putConfig(kv, configAt(0, { bootstrapFlags: true, flags: { analytics: { enabled: true } } }));
    const html = await (await request('/html')).text();
    expect(html).toContain('<head><script>window.__FLAGS__={"analytics":true}</script><title>stable</title>');
  });

  it('leaves HTML alone when disabled and never touches non-HTML', async () => {
    const { request, kv } = testApp();
    await putConfig(kv, configAt(0));
    expect(await (await request('/html')).text()).not.toContain('__FLAGS__');
    const fresh = testApp();
    await putConfig(fresh.kv, configAt(0, { bootstrapFlags: true }));
    expect(await (await fresh.request('/')).text()).not.toContain('__FLAGS__');
  });

  it('carries the nonce of the page’s own Content-Security-Policy', async () => {
    const { request, kv } = testApp();
    await putConfig(kv, configAt(0, { bootstrapFlags: true, flags: { analytics: { enabled: true } } }));
    const response = await request('/html-csp');
    expect(response.headers.get('content-security-policy')).toContain("'nonce-r4nd0mN0nce'");
    expect(await response.text()).toContain(
      '<head><script nonce="r4nd0mN0nce">window.__FLAGS__={"analytics":true}</script>',
    );
  });

  it.each(['utf-16', 'utf-16le', 'UTF-16BE', 'iso-2022-jp', 'utf-7', 'cp932', 'binary', 'no-such-charset'])(
    'passes a %s page through untouched, from its own cohort, with one origin request per GET and POST',
    async (charset) => {
      const sent: string[] = [];
      const { request, kv, logger } = testApp({
        deps: { fetch: (input, init) => (sent.push(`${init.method} ${input}`), fetch(input, init)) },
      });
      await putConfig(kv, configAt(100, { bootstrapFlags: true }));
      for (const method of ['GET', 'POST']) {
        const response = await request(`/html-charset/${charset}`, {
          method,
          headers: { cookie: 'rollout_id=visitor-0001' },
          ...(method === 'POST' ? { body: 'invoice=7' } : {}),
        });
        expect(response.status).toBe(200);
        expect(response.headers.get('x-rollout-cohort')).toBe('canary');
        const html = await response.text();
        expect(html).toBe(
          '<!doctype html><html><head><title>canary</title></head><body>canary</body></html>',
        );
      }
      expect(sent).toHaveLength(2);
      expect(logger.lines.filter((l) => l.message.startsWith('flags bootstrap skipped'))).toHaveLength(2);
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    },
  );

  it('still injects into pages in the ASCII-compatible charsets HTMLRewriter reads', async () => {
    const { request, kv } = testApp();
    await putConfig(kv, configAt(0, { bootstrapFlags: true, flags: { analytics: { enabled: true } } }));
    for (const charset of ['iso-8859-1', 'Shift_JIS', 'windows-31j', 'euc-jp', 'gb18030'])
      expect(await (await request(`/html-charset/${charset}`)).text()).toContain('window.__FLAGS__');
  });

  it('escapes so that no value can close the script tag', () => {
    const script = flagsScript({ '</script><script>alert(1)</script>': true, 'a\u2028b': false });
    expect(script.match(/<\/script>/g)).toHaveLength(1);
    expect(script).not.toContain('<script>alert');
    expect(script).toContain('\\u003c/script\\u003e');
    expect(script).toContain('\\u2028');
  });
});

describe('WebSocket', () => {
  it('passes an upgrade through to the cohort origin', async () => {
    const { request, kv } = testApp();
    await putConfig(kv, configAt(100));
    const response = await request('/ws', { headers: { upgrade: 'websocket' } });
    expect(response.status).toBe(101);
    expect(response.headers.get('x-rollout-cohort')).toBe('canary');
    expect(response.headers.get('set-cookie')).toMatch(/^rollout_id=/);
    const socket = response.webSocket!;
    const message = new Promise<string>((resolve) =>
      socket.addEventListener('message', (e) => resolve(String(e.data))),
    );
    socket.accept();
    expect(await message).toBe('hello from canary');
    socket.close();
  });
});

describe('a 101 without a WebSocket', () => {
  it('is an origin fault: a plain 502 (after a failover for a GET), never our own exception', async () => {
    const { request, kv, logger, metrics } = testApp();
    await putConfig(kv, configAt(100));
    const response = await request('/switch-no-socket', { headers: { cookie: 'rollout_id=visitor-0001' } });
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: 'upstream unavailable', cohort: 'stable' });
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(logger.lines.some((l) => String(l.fields?.error).includes('(101) without a WebSocket'))).toBe(
      true,
    );
    expect(metrics.metrics).toMatchObject([{ assignedCohort: 'canary', outcome: 'failover', status: 502 }]);
  });
});
