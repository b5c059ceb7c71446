import type { FuzzRandom } from './random';

/** One generated request to the OFREP endpoints, as raw bytes plus what the test needs to judge it. */
export interface OfrepFuzzCase {
  strategy: string;
  bytes: Buffer;
  /** Statuses a correct Worker may answer. */
  allowed: readonly number[];
  /** The flag asked for on the single-flag route; undefined on the bulk route and elsewhere. */
  flagKey?: string;
  /** The id the answer must be computed for, when the request names exactly one. */
  targetingKey?: string;
  /** The OFREP error code a 400 must carry, when only one is right. */
  errorCode?: string;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';
const VISIBLE = `${ID_ALPHABET}!"#$%&'()*+,./:;<=>?@[\\]^\`{|}~`;
const BULK = '/ofrep/v1/evaluate/flags';
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '%00',
  '%ff%fe',
  '..%2f..%2fetc',
  '%2e%2e',
  'templates%00',
  encodeURIComponent('tëmplätes💥'),
  'a'.repeat(4000),
  '%',
  '%zz',
  'templates;x=1',
  'templates?x=1',
];
const GARBAGE = [
  '{',
  '}',
  '{"context":',
  'null',
  '[]',
  '[{}]',
  '"s"',
  '1e999',
  'true',
  '{"context":{}}}',
  '{,}',
  "{'a':1}",
];

type Header = [string, string | Buffer];

interface Built {
  method: string;
  path: string;
  headers: Header[];
  body?: Buffer;
  chunked?: boolean;
  allowed: readonly number[];
  flagKey?: string;
  targetingKey?: string;
  errorCode?: string;
}

function visitorId(random: FuzzRandom): string {
  return random.text(8 + random.int(57), ID_ALPHABET);
}

function randomValue(random: FuzzRandom, depth = 0): unknown {
  switch (random.int(depth > 2 ? 4 : 6)) {
    case 0:
      return random.text(random.int(40), VISIBLE);
    case 1:
      return random.int(1_000_000) - 500_000;
    case 2:
      return random.chance(0.5);
    case 3:
      return null;
    case 4:
      return Array.from({ length: random.int(4) }, () => randomValue(random, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: random.int(4) }, () => [
          random.text(1 + random.int(12)),
          randomValue(random, depth + 1),
        ]),
      );
  }
}

/** App attributes an SDK might put in a context; none of them may change an answer. */
function attributes(random: FuzzRandom): Record<string, unknown> {
  return Object.fromEntries(
    Array.from({ length: random.int(6) }, () => [
      random.pick(['plan', 'email', 'country', 'x', random.text(8)]),
      randomValue(random),
    ]),
  );
}

function route(random: FuzzRandom, flagNames: readonly string[]): { path: string; flagKey?: string } {
  if (random.chance(0.4)) return { path: BULK };
  const flagKey = random.chance(0.8)
    ? random.pick(flagNames)
    : random.pick(['unknownFlag', 'Templates', 'a.b-c_d']);
  return { path: `${BULK}/${flagKey}`, flagKey };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** A bulk answer's tag and the targeting key it was computed for (the body `{"context":{"targetingKey":…}}`). */
export interface KnownValidator {
  targetingKey: string;
  etag: string;
}

function build(
  random: FuzzRandom,
  strategy: string,
  flagNames: readonly string[],
  validator?: KnownValidator,
): Built {
  const { path, flagKey } = route(random, flagNames);
  const evaluation = {
    method: 'POST',
    path,
    flagKey,
    headers: [['Content-Type', 'application/json']] as Header[],
  };
  switch (strategy) {
    case 'valid-context': {
      const targetingKey = random.chance(0.7) ? visitorId(random) : random.text(1 + random.int(256), VISIBLE);
      const context = {
        ...attributes(random),
        targetingKey,
        ...(random.chance(0.3) ? { includeCohort: true } : {}),
      };
      return { ...evaluation, body: json({ context }), allowed: [200, 404], targetingKey };
    }
    case 'cookie-only': {
      const id = visitorId(random);
      const valid = random.chance(0.7);
      const cookie = valid
        ? `a=1; rollout_id=${id}`
        : `rollout_id=${random.pick(['short', 'has.dot.x', '', `${id}!`])}`;
      const context = random.chance(0.5) ? { context: attributes(random) } : {};
      return {
        ...evaluation,
        headers: [...evaluation.headers, ['Cookie', cookie]],
        body: random.chance(0.2) ? Buffer.alloc(0) : json(context),
        allowed: valid ? [200, 404] : [400],
        targetingKey: valid ? id : undefined,
        errorCode: valid ? undefined : 'TARGETING_KEY_MISSING',
      };
    }
    case 'garbage-json': {
      const text = random.chance(0.5)
        ? random.pick(GARBAGE)
        : `{"context":${random.text(1 + random.int(60), VISIBLE)}`;
      return { ...evaluation, body: Buffer.from(text), allowed: [400] };
    }
    case 'wrong-types': {
      const context = random.pick<unknown>([
        [],
        'visitor-0001',
        42,
        { targetingKey: 42 },
        { targetingKey: { id: 'x' } },
        { targetingKey: ['visitor-0001'] },
        { targetingKey: 'has space inside' },
        { targetingKey: 'k'.repeat(257 + random.int(2000)) },
        { targetingKey: 'ünïcode-key' },
        { targetingKey: 'tab\tkey' },
        { targetingKey: 'visitor-0001', includeCohort: 'yes' },
      ]);
      return { ...evaluation, body: json({ context }), allowed: [400], errorCode: 'INVALID_CONTEXT' };
    }
    case 'deep-nesting': {
      const depth = random.pick([100, 1000, 3000, 7000]);
      const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const text = `{"context":{"targetingKey":"visitor-0001","deep":${nested}}}`;
      return { ...evaluation, body: Buffer.from(text), allowed: [200, 400, 404] };
    }
    case 'oversized': {
      const size = random.pick([16_385, 20_000, 100_000, 1_000_000]);
      const pad = 'x'.repeat(size);
      return {
        ...evaluation,
        body: json({ context: { targetingKey: 'visitor-0001', pad } }),
        chunked: random.chance(0.5),
        allowed: [400],
        errorCode: 'GENERAL',
      };
    }
    case 'non-utf8': {
      const bytes = Buffer.concat([
        Buffer.from('{"context":{"targetingKey":"visitor-0001","x":"'),
        Buffer.from(random.pick([[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80]])),
        Buffer.from('"}}'),
      ]);
      return { ...evaluation, body: bytes, allowed: [400], errorCode: 'PARSE_ERROR' };
    }
    case 'hostile-key': {
      const key = random.pick(HOSTILE_KEYS);
      return {
        ...evaluation,
        path: `${BULK}/${key}`,
        flagKey: undefined,
        body: json({ context: { targetingKey: 'visitor-0001' } }),
        // `templates?x=1` is the flag `templates` with a query string.
        allowed: [200, 404],
      };
    }
    case 'hostile-headers': {
      let id = visitorId(random);
      const headers: Header[] = [...evaluation.headers];
      // A real tag, for its own context on the bulk route, is the one validator that answers 304;
      // junk validators and `*` get the full answer.
      let revalidates = false;
      if (random.chance(0.5)) {
        revalidates = validator !== undefined && random.chance(0.5);
        headers.push([
          'If-None-Match',
          revalidates
            ? random.pick([validator!.etag, `W/${validator!.etag}`, `"a", ${validator!.etag}`])
            : random.pick(['*', 'W/"x"', '"a", "b", W/"c"', ',,,', `"${'e'.repeat(5000)}"`, 'ofrep']),
        ]);
        if (revalidates) id = validator!.targetingKey;
      }
      if (random.chance(0.5))
        headers.push(['Origin', random.pick(['https://evil.example', 'null', 'http://127.0.0.1:1'])]);
      if (random.chance(0.5))
        headers.push([
          'Authorization',
          random.pick(['Bearer', 'Bearer ', 'Basic abc', `Bearer ${'t'.repeat(5000)}`]),
        ]);
      if (random.chance(0.3)) headers.push(['X-API-Key', random.text(1 + random.int(100), VISIBLE)]);
      if (random.chance(0.3))
        headers[0] = [
          'Content-Type',
          random.pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x']),
        ];
      // With no API key configured, credentials are ignored; only a matching tag answers 304.
      if (revalidates)
        return {
          ...evaluation,
          path: BULK,
          flagKey: undefined,
          headers,
          body: json({ context: { targetingKey: id } }),
          allowed: [304],
          targetingKey: id,
        };
      return {
        ...evaluation,
        headers,
        body: json({ context: { targetingKey: id } }),
        allowed: [200, 404],
        targetingKey: id,
      };
    }
    case 'wrong-method': {
      const method = random.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
      const allowed = method === 'OPTIONS' ? [204] : [405];
      return { method, path, headers: [], allowed };
    }
    case 'unknown-path': {
      const tail = random.pick([
        '',
        '/',
        '/v1',
        '/v1/evaluate',
        '/v2/evaluate/flags',
        '/v1/evaluate/flags/a/b',
        `/${random.text(1 + random.int(30), ID_ALPHABET)}`,
      ]);
      return {
        method: random.pick(['GET', 'POST']),
        path: `/ofrep${tail}`,
        headers: [],
        body: Buffer.from('{}'),
        allowed: [200, 400, 404, 405],
      };
    }
    case 'json-flags-route': {
      const cookie = random.pick([
        `rollout_id=${visitorId(random)}`,
        'rollout_id=bad',
        `${'c=1; '.repeat(500)}rollout_id=x`,
        '',
      ]);
      return {
        method: 'GET',
        path: '/ofrep/flags',
        headers: cookie ? [['Cookie', cookie]] : [],
        allowed: [200],
      };
    }
    default:
      throw new Error(`unknown strategy ${strategy}`);
  }
}

const STRATEGIES = [
  'valid-context',
  'valid-context',
  'cookie-only',
  'garbage-json',
  'wrong-types',
  'deep-nesting',
  'oversized',
  'non-utf8',
  'hostile-key',
  'hostile-headers',
  'wrong-method',
  'unknown-path',
  'json-flags-route',
];

function frame(built: Built, port: number): Buffer {
  const body = built.body ?? Buffer.alloc(0);
  const lines = [`${built.method} ${built.path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  const head = Buffer.concat([
    Buffer.from(`${lines.join('\r\n')}\r\n`),
    ...built.headers.map(([name, value]) =>
      Buffer.concat([Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n')]),
    ),
    Buffer.from(
      built.body === undefined
        ? 'Connection: close\r\n\r\n'
        : built.chunked
          ? 'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n'
          : `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    ),
  ]);
  if (built.body === undefined) return head;
  if (!built.chunked) return Buffer.concat([head, body]);
  const chunks: Buffer[] = [head];
  for (let at = 0; at < body.length; at += 8192) {
    const part = body.subarray(at, at + 8192);
    chunks.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(chunks);
}

/**
 * Generates requests to the OFREP endpoints: valid contexts with random app attributes, cookie-only
 * requests, broken and deeply nested JSON, wrong context types, oversized (also chunked) and
 * non-UTF-8 bodies, hostile flag keys, junk validators and credentials, wrong methods, unknown
 * paths and the JSON flags route with hostile cookies. With `validator` (a tag the Worker answered
 * for one context), some requests revalidate it and must get `304`.
 *
 * @example
 * for (const c of ofrepFuzzCases(fuzzRandom(seed), 1000, port, ['templates'])) await rawHttp(port, c.bytes);
 */
export function ofrepFuzzCases(
  random: FuzzRandom,
  count: number,
  port: number,
  flagNames: readonly string[],
  validator?: KnownValidator,
): OfrepFuzzCase[] {
  return Array.from({ length: count }, () => {
    const strategy = random.pick(STRATEGIES);
    const built = build(random, strategy, flagNames, validator);
    return {
      strategy,
      bytes: frame(built, port),
      allowed: built.allowed,
      flagKey: built.flagKey,
      targetingKey: built.targetingKey,
      errorCode: built.errorCode,
    };
  });
}
