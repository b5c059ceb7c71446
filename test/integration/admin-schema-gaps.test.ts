import { describe, expect, it } from 'vitest';
import { configAt, putConfig, testApp } from '../support/in-workerd/test-app';

/** An admin write with a raw JSON body, as a client would send it. */
async function write(method: string, path: string, body: string) {
  const app = testApp();
  await putConfig(app.kv, configAt(10));
  const send = (m: string, p: string, b?: string) =>
    app.request(`/__rollout${p}`, {
      method: m,
      headers: { authorization: `Bearer ${app.env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(b === undefined ? {} : { body: b }),
    });
  const before = await (await send('GET', '/state')).text();
  const response = await send(method, path, body);
  const after = await (await send('GET', '/state')).text();
  return { status: response.status, text: await response.text(), unchanged: before === after };
}

describe('admin bodies the schema used to accept and ignore', () => {
  it.each([
    ['a valid flag', '{"enabled":true}'],
    ['an invalid flag', '{"enabled":"nope"}'],
  ])('refuses a flag named __proto__ (%s) with 400, changing nothing', async (_name, flag) => {
    const config = JSON.stringify({ ...configAt(10), version: undefined });
    const body = config.replace('"flags":{', `"flags":{"__proto__":${flag},`);
    const { status, text, unchanged } = await write('PUT', '/config', body);
    expect(status).toBe(400);
    expect(text).toContain('__proto__');
    expect(unchanged).toBe(true);
  });

  it('refuses a percent no visitor can reach (5e-324) with 400, changing nothing', async () => {
    const { status, unchanged } = await write('PUT', '/percent', '{"percent":5e-324}');
    expect(status).toBe(400);
    expect(unchanged).toBe(true);
  });
});
