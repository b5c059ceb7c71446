import { describe, expect, it } from 'vitest';
import { flagsScript } from '../../worker/edge/split-handler';
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
