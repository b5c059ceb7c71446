import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/config/settings';
import {
  evaluatesOwnVisitor,
  parseOfrepRequest,
  visitorIdOf,
  type Stickiness,
} from '../../src/ofrep/ofrep-request';

const COOKIE_ONLY: Stickiness = { cookieName: 'rollout_id' };
const WITH_IDENTITY: Stickiness = { cookieName: 'rollout_id', identityHeader: 'x-user-id' };
const VISITOR = 'visitor-0001';

function parse(body: string, headers: Record<string, string> = {}, stickiness = COOKIE_ONLY) {
  return parseOfrepRequest(body, new Headers(headers), stickiness);
}

describe('OFREP request: whose flags to evaluate', () => {
  it('takes the targeting key from the context first, whatever cookie or identity header the request carries', () => {
    const result = parse(
      JSON.stringify({ context: { targetingKey: 'user:42@example.com', plan: 'pro' } }),
      { cookie: `rollout_id=${VISITOR}`, 'x-user-id': 'someone-else' },
      WITH_IDENTITY,
    );
    expect(result).toEqual({
      ok: true,
      request: {
        targetingKey: 'user:42@example.com',
        keySource: 'context',
        includeCohort: false,
        // Every attribute is kept for flag rules to read by name.
        context: { targetingKey: 'user:42@example.com', plan: 'pro' },
      },
    });
  });

  it('falls back to the identity header, then the rollout_id cookie, exactly as the splitter finds the visitor', () => {
    const headers = { cookie: `a=1; rollout_id=${VISITOR}`, 'x-user-id': 'user-7' };
    expect(parse('{"context":{}}', headers, WITH_IDENTITY)).toMatchObject({
      ok: true,
      request: { targetingKey: 'user-7', keySource: 'identity-header' },
    });
    expect(parse('{"context":{}}', headers, COOKIE_ONLY)).toMatchObject({
      ok: true,
      request: { targetingKey: VISITOR, keySource: 'cookie' },
    });
    // An invalid identity header is ignored, as by the splitter: the cookie decides.
    expect(
      parse('{}', { cookie: `rollout_id=${VISITOR}`, 'x-user-id': 'has space' }, WITH_IDENTITY),
    ).toMatchObject({ ok: true, request: { targetingKey: VISITOR, keySource: 'cookie' } });
  });

  it('treats an empty body, a null context and an empty targetingKey as "no key given"', () => {
    const headers = { cookie: `rollout_id=${VISITOR}` };
    for (const body of ['', '  ', '{}', '{"context":null}', '{"context":{"targetingKey":""}}'])
      expect(parse(body, headers), body).toMatchObject({ ok: true, request: { targetingKey: VISITOR } });
  });

  it('uses a configured cookie name', () => {
    expect(parse('{}', { cookie: `sid=${VISITOR}` }, { cookieName: 'sid' })).toMatchObject({
      ok: true,
      request: { targetingKey: VISITOR },
    });
    expect(parse('{}', { cookie: `rollout_id=${VISITOR}` }, { cookieName: 'sid' })).toMatchObject({
      ok: false,
      error: { errorCode: 'TARGETING_KEY_MISSING' },
    });
  });

  it('answers TARGETING_KEY_MISSING without a key, a valid cookie or a valid identity header (no id is invented)', () => {
    for (const cookie of [undefined, 'rollout_id=short', 'rollout_id=has.dot.inside', 'other=abcdefgh1234']) {
      const result = parse('{"context":{"plan":"pro"}}', cookie ? { cookie } : {}, WITH_IDENTITY);
      expect(result, String(cookie)).toMatchObject({
        ok: false,
        error: { errorCode: 'TARGETING_KEY_MISSING' },
      });
    }
  });

  it('answers PARSE_ERROR for a body that is not a JSON object', () => {
    for (const body of ['{', 'null', '[]', '"text"', '42', 'true', '{"context":}', '\u0000'])
      expect(parse(body), body).toMatchObject({ ok: false, error: { errorCode: 'PARSE_ERROR' } });
  });

  it('answers INVALID_CONTEXT for a context or targetingKey of the wrong shape, naming the problem', () => {
    const cases = [
      '{"context":[]}',
      '{"context":"user-1"}',
      '{"context":{"targetingKey":42}}',
      '{"context":{"targetingKey":{"id":"x"}}}',
      '{"context":{"targetingKey":"has space"}}',
      `{"context":{"targetingKey":"${'k'.repeat(257)}"}}`,
      '{"context":{"targetingKey":"caf\u00e9"}}',
      '{"context":{"includeCohort":"yes"}}',
    ];
    for (const body of cases) {
      const result = parse(body, { cookie: `rollout_id=${VISITOR}` });
      expect(result, body).toMatchObject({ ok: false, error: { errorCode: 'INVALID_CONTEXT' } });
      if (!result.ok) expect(result.error.errorDetails).toMatch(/^invalid context: .+/);
    }
  });

  it('accepts a 256-character key and reads includeCohort', () => {
    const key = 'k'.repeat(256);
    expect(parse(JSON.stringify({ context: { targetingKey: key, includeCohort: true } }))).toEqual({
      ok: true,
      request: {
        targetingKey: key,
        keySource: 'context',
        includeCohort: true,
        context: { targetingKey: key, includeCohort: true },
      },
    });
  });

  it('ignores unknown top-level fields and context attributes (later protocol versions, app attributes)', () => {
    const body = JSON.stringify({ context: { targetingKey: VISITOR, nested: { a: [1, 2] } }, flags: ['x'] });
    expect(parse(body)).toMatchObject({ ok: true, request: { targetingKey: VISITOR } });
  });

  it('visitorIdOf never issues an id', () => {
    expect(visitorIdOf(new Headers(), WITH_IDENTITY)).toBeUndefined();
  });
});

describe('OFREP settings', () => {
  const base = { STABLE_ORIGIN: 'https://stable.example.com', CANARY_ORIGIN: 'https://canary.example.com' };

  it('defaults to /ofrep at the root, no CORS origin and no API key', () => {
    const parsed = parseSettings(base);
    expect(parsed.ok && parsed.settings).toMatchObject({ OFREP_BASE_PATH: '/', OFREP_CORS_ORIGINS: [] });
    expect(parsed.ok && parsed.settings.OFREP_API_KEY).toBeUndefined();
  });

  it('accepts off, a base path, a list of origins and a long enough key', () => {
    const parsed = parseSettings({
      ...base,
      OFREP_BASE_PATH: '/edge/flags',
      OFREP_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      OFREP_API_KEY: 'ofrep-key-0123456789',
    });
    expect(parsed.ok && parsed.settings).toMatchObject({
      OFREP_BASE_PATH: '/edge/flags',
      OFREP_CORS_ORIGINS: ['https://app.example.com', 'http://localhost:5173'],
      OFREP_API_KEY: 'ofrep-key-0123456789',
    });
    expect(parseSettings({ ...base, OFREP_BASE_PATH: 'off' }).ok).toBe(true);
  });

  it.each([
    ['OFREP_BASE_PATH', 'edge'],
    ['OFREP_BASE_PATH', '/edge/'],
    ['OFREP_BASE_PATH', '/a/b/c/d/e'],
    ['OFREP_BASE_PATH', '/has space'],
    ['OFREP_CORS_ORIGINS', 'https://app.example.com/path'],
    ['OFREP_CORS_ORIGINS', 'app.example.com'],
    ['OFREP_CORS_ORIGINS', '*'],
    ['OFREP_API_KEY', 'short'],
    ['OFREP_API_KEY', 'sixteen chars with spaces'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    const parsed = parseSettings({ ...base, [name]: value });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues.join('\n')).toContain(name);
  });
});

describe("OFREP request: the request's own visitor (whose QA override applies)", () => {
  const own = (body: string, headers: Record<string, string>, stickiness = COOKIE_ONLY) => {
    const parsed = parseOfrepRequest(body, new Headers(headers), stickiness);
    if (!parsed.ok) throw new Error(parsed.error.errorDetails);
    return evaluatesOwnVisitor(parsed.request, new Headers(headers), stickiness);
  };

  it('is the visitor of the cookie or identity header, or a context key equal to the id the splitter hashes', () => {
    const cookie = { cookie: `rollout_id=${VISITOR}` };
    expect(own('{}', cookie)).toBe(true);
    expect(own(JSON.stringify({ context: { targetingKey: VISITOR } }), cookie)).toBe(true);
    expect(own('{}', { ...cookie, 'x-user-id': 'user-7' }, WITH_IDENTITY)).toBe(true);
    expect(
      own(
        JSON.stringify({ context: { targetingKey: 'user-7' } }),
        { ...cookie, 'x-user-id': 'user-7' },
        WITH_IDENTITY,
      ),
    ).toBe(true);
  });

  it('is not an explicit targetingKey naming anyone else, nor the cookie id when the identity header decides', () => {
    const cookie = { cookie: `rollout_id=${VISITOR}` };
    expect(own(JSON.stringify({ context: { targetingKey: 'visitor-0042' } }), cookie)).toBe(false);
    expect(own(JSON.stringify({ context: { targetingKey: 'visitor-0042' } }), {})).toBe(false);
    // The splitter hashes the identity header here, not the cookie.
    expect(
      own(
        JSON.stringify({ context: { targetingKey: VISITOR } }),
        { ...cookie, 'x-user-id': 'user-7' },
        WITH_IDENTITY,
      ),
    ).toBe(false);
  });
});
