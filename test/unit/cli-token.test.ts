import { describe, expect, it } from 'vitest';
import { AdminTokensSchema, findToken, sha256Of } from '../../src/admin/tokens';
import { runCli } from '../../cli/run-cli';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    runtime: { env: {}, stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) },
  };
}

describe('npx rollout token new', () => {
  it('prints a 43-character token once and the ADMIN_TOKENS line that accepts exactly it, with no URL set', async () => {
    const { out, err, runtime } = capture();
    expect(await runCli(['token', 'new', '--name', 'alice', '--role', 'operator', '--json'], runtime)).toBe(
      0,
    );
    expect(err).toEqual([]);
    const printed = JSON.parse(out.join('')) as { name: string; role: string; token: string; line: string };
    expect(printed).toMatchObject({ name: 'alice', role: 'operator' });
    expect(printed.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const entries = AdminTokensSchema.parse(printed.line);
    expect(findToken(entries, await sha256Of(printed.token))).toMatchObject({
      name: 'alice',
      role: 'operator',
    });
    expect(findToken(entries, await sha256Of(`${printed.token}x`))).toBeUndefined();
  });

  it('makes a different token each time', async () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const { out, runtime } = capture();
      await runCli(['token', 'new', '--name', 'ci-deployer', '--role', 'operator', '--json'], runtime);
      tokens.add((JSON.parse(out.join('')) as { token: string }).token);
    }
    expect(tokens.size).toBe(3);
  });

  it('shows the token and the line to add in its text output', async () => {
    const { out, runtime } = capture();
    await runCli(['token', 'new', '--name', 'bob', '--role', 'viewer'], runtime);
    const text = out.join('');
    expect(text).toMatch(/New viewer token for bob, shown once/);
    expect(text).toMatch(/\n {2}bob:viewer:[0-9a-f]{64}\n/);
  });

  it.each([
    [
      ['token', 'new', '--name', 'alice', '--role', 'root'],
      /--role is one of admin, operator, viewer, events/,
    ],
    [['token', 'new', '--name', 'al:ice', '--role', 'viewer'], /a token name is 1–64 chars/],
    [['token', 'new', '--role', 'viewer'], /--name is required/],
    [['token', 'new', '--name', 'alice'], /--role is required/],
    [['token', 'rotate', '--name', 'alice'], /unknown token command: rotate/],
    [['token', 'new', '--name', 'alice', '--role', 'viewer', '--url', 'x'], /Unknown option '--url'/],
  ])('refuses %j with exit 2, printing no token', async (argv, message) => {
    const { out, err, runtime } = capture();
    expect(await runCli(argv, runtime)).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('')).toMatch(message);
    expect(err.join('')).toMatch(/usage: npx rollout token new --name NAME --role/);
  });
});
