import { FUZZ_ADMIN_ROUTES, type FuzzAdminRoute, type FuzzWorld } from './admin-routes';
import type { FuzzRandom } from './random';

/** One generated admin request. */
export interface AdminFuzzCase {
  /** How the body or headers were made (for the figures and to reproduce a failure). */
  strategy: string;
  route: FuzzAdminRoute;
  /** The flag name in the path, decoded (`/flags/:name` only). */
  flagName?: string;
  /** The path under the admin prefix, URL-encoded. */
  path: string;
  /** Request headers; `undefined` leaves one out. */
  headers: Record<string, string | undefined>;
  body: Buffer;
  /** Send without Content-Length (chunked), so the size is only known while reading. */
  chunked: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

const MAX_BODY = 64 * 1024;
const WEIRD_NUMBERS = [
  1e308,
  -1e308,
  9_007_199_254_740_993,
  1e21,
  -0,
  5e-324,
  100.001,
  1e-7,
  -1,
  101,
  2 ** 31,
];
const NON_FINITE_STRINGS = ['NaN', 'Infinity', '-Infinity', '1e309', '0x10', ''];
const NON_FINITE_TOKENS = ['NaN', 'Infinity', '-Infinity', 'undefined', '1e999', '-1e999', '.5', '01'];
const UNICODE = [
  '💥',
  '\u202eevil',
  'zero\u200bwidth',
  '\ud800',
  '\udfff',
  '\u0000',
  'ünïcödé',
  '\u2028',
  'e\u0301',
  '\ufeff',
];
const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'application/xml',
  '*/*',
];
const INVALID_UTF8 = [
  [0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xe2, 0x82],
];
const FLAG_NAMES = [
  '',
  'a'.repeat(65),
  '1abc',
  'bad name',
  'ünï',
  'a/b',
  '..',
  '%',
  'a.b-c_d',
  'x'.repeat(64),
];
const PROTOTYPE_NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'prototype'];
const HOSTILE_HEADERS: [string, string][] = [
  ['if-match', 'abc'],
  ['if-match', '"'],
  ['if-match', '1'.repeat(20)],
  ['if-match', '-1'],
  ['if-match', '*'],
  ['if-match', '7, 8'],
  ['if-match', 'W/"3"'],
  ['if-match', '"999999"'],
  ['x-rollout-actor', ''],
  ['x-rollout-actor', 'a'.repeat(65)],
  ['x-rollout-actor', 'ops team'],
  ['x-rollout-actor', 'ops<script>'],
  ['x-rollout-actor', 'ops@example.com'],
  ['origin', 'https://evil.example'],
  ['sec-fetch-site', 'cross-site'],
  ['sec-fetch-site', 'same-site'],
  ['sec-fetch-site', 'same-origin'],
];

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function nodePaths(value: Json, path: Path = []): Path[] {
  const paths: Path[] = [path];
  if (Array.isArray(value)) value.forEach((item, i) => paths.push(...nodePaths(item, [...path, i])));
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) paths.push(...nodePaths(item, [...path, key]));
  return paths;
}

function setAt(root: Json, path: Path, next: Json | undefined): Json {
  if (path.length === 0) return next ?? null;
  const copy = clone(root);
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (next === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = next;
  return copy;
}

function randomJson(random: FuzzRandom, depth = 0): Json {
  const kind = random.int(depth > 3 ? 4 : 6);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, 1, -1, 10, 50, 100, 100.5, 1e10, random.next() * 200 - 50]);
    case 3:
      return random.chance(0.3) ? random.pick(UNICODE) : random.text(random.int(20));
    case 4:
      return Array.from({ length: random.int(4) }, () => randomJson(random, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: random.int(4) }, () => [
          random.pick([
            'percent',
            'enabled',
            'rollout',
            'flags',
            'reason',
            'cohort',
            'canary',
            random.text(5),
          ]),
          randomJson(random, depth + 1),
        ]),
      );
  }
}

function otherType(random: FuzzRandom, value: Json): Json {
  const options: Json[] = [String(value), 42, true, null, [value], { value }];
  const differing = options.filter(
    (option) => typeof option !== typeof value || Array.isArray(option) !== Array.isArray(value),
  );
  return random.pick(differing);
}

function randomNode(random: FuzzRandom, body: Json, leavesOnly = false): Path {
  const paths = nodePaths(body).filter((path) => path.length > 0);
  const candidates = leavesOnly
    ? paths.filter((path) => {
        let node: Json = body;
        for (const key of path) node = (node as Record<string | number, Json>)[key]!;
        return node === null || typeof node !== 'object';
      })
    : paths;
  return candidates.length ? random.pick(candidates) : [random.text(4)];
}

function objectPaths(body: Json): Path[] {
  return nodePaths(body).filter((path) => {
    let node: Json = body;
    for (const key of path) node = (node as Record<string | number, Json>)[key]!;
    return node !== null && typeof node === 'object' && !Array.isArray(node);
  });
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

/** Builds the body (and headers) of one case from a valid body, by strategy. */
function mutate(
  random: FuzzRandom,
  strategy: string,
  valid: Json,
): { body: Buffer; headers?: Record<string, string | undefined>; chunked?: boolean } {
  const text = JSON.stringify(valid);
  switch (strategy) {
    case 'valid':
      return { body: utf8(text) };
    case 'wrong-content-type':
      return { body: utf8(text), headers: { 'content-type': random.pick(CONTENT_TYPES) } };
    case 'no-content-type':
      return { body: utf8(text), headers: { 'content-type': undefined } };
    case 'type-swap': {
      const path = randomNode(random, valid);
      let node: Json = valid;
      for (const key of path) node = (node as Record<string | number, Json>)?.[key] ?? null;
      return { body: utf8(JSON.stringify(setAt(valid, path, otherType(random, node)))) };
    }
    case 'huge-number':
      return {
        body: utf8(JSON.stringify(setAt(valid, randomNode(random, valid, true), random.pick(WEIRD_NUMBERS)))),
      };
    case 'non-finite-string':
      return {
        body: utf8(
          JSON.stringify(setAt(valid, randomNode(random, valid, true), random.pick(NON_FINITE_STRINGS))),
        ),
      };
    case 'non-finite-token': {
      const marked = JSON.stringify(setAt(valid, randomNode(random, valid, true), '__TOKEN__'));
      return { body: utf8(marked.replace('"__TOKEN__"', random.pick(NON_FINITE_TOKENS))) };
    }
    case 'unknown-field': {
      const at = random.pick(objectPaths(valid));
      const key = random.pick(['percnt', 'Percent', 'extra', 'state2', '__proto__x', random.text(6)]);
      return { body: utf8(JSON.stringify(setAt(valid, [...at, key], randomJson(random)))) };
    }
    case 'missing-field':
      return { body: utf8(JSON.stringify(setAt(valid, randomNode(random, valid), undefined))) };
    case 'long-string': {
      const length = random.pick([65, 129, 501, 4_097, 20_000, 60_000]);
      return {
        body: utf8(JSON.stringify(setAt(valid, randomNode(random, valid, true), random.text(length)))),
      };
    }
    case 'deep-nesting': {
      const depth = random.pick([64, 1_000, 10_000, 30_000]);
      const deep = random.chance(0.5)
        ? '['.repeat(depth) + ']'.repeat(depth)
        : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const marked = JSON.stringify(setAt(valid, randomNode(random, valid), '__DEEP__'));
      return { body: utf8(marked.replace('"__DEEP__"', deep)) };
    }
    case 'unicode': {
      const value = random.pick(UNICODE) + random.text(random.int(8)) + random.pick(UNICODE);
      return { body: utf8(JSON.stringify(setAt(valid, randomNode(random, valid, true), value))) };
    }
    case 'random-json':
      return { body: utf8(JSON.stringify(randomJson(random))) };
    case 'invalid-utf8': {
      const bytes = utf8(text);
      const at = 1 + random.int(Math.max(1, bytes.length - 2));
      return {
        body: Buffer.concat([
          bytes.subarray(0, at),
          Buffer.from(random.pick(INVALID_UTF8)),
          bytes.subarray(at),
        ]),
      };
    }
    case 'bom':
      return { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(text)]) };
    case 'utf16':
      return { body: Buffer.from(text, 'utf16le') };
    case 'empty':
      return { body: utf8(random.pick(['', ' ', '\n\t ', '\r\n'])) };
    case 'oversized': {
      const padded = random.chance(0.5)
        ? text.replace(/}$/, `${text === '{}' ? '' : ','}"reason":"${'x'.repeat(MAX_BODY)}"}`)
        : text + ' '.repeat(MAX_BODY);
      return { body: utf8(padded), chunked: random.chance(0.5) };
    }
    case 'truncated':
      return { body: utf8(text.slice(0, random.int(text.length))) };
    case 'duplicate-key': {
      const keys = Object.keys(valid as Record<string, Json>);
      const key = keys.length ? random.pick(keys) : 'reason';
      const junk = JSON.stringify(random.pick<Json>([500, 'x', null, { nested: true }, -1]));
      return {
        body: utf8(
          random.chance(0.5)
            ? `{"${key}":${junk},${text.slice(1)}`
            : `${text.slice(0, -1)}${text === '{}' ? '' : ','}"${key}":${junk}}`,
        ),
      };
    }
    case 'prototype-key': {
      const key = random.pick(['__proto__', 'constructor', 'prototype']);
      return { body: utf8(`{"${key}":${JSON.stringify(valid)}${text === '{}' ? '' : ','}${text.slice(1)}`) };
    }
    case 'hostile-header': {
      const [name, value] = random.pick(HOSTILE_HEADERS);
      return { body: utf8(text), headers: { [name]: value } };
    }
    default:
      throw new Error(`unknown strategy ${strategy}`);
  }
}

const STRATEGIES: [string, number][] = [
  ['valid', 10],
  ['wrong-content-type', 5],
  ['no-content-type', 2],
  ['type-swap', 12],
  ['huge-number', 8],
  ['non-finite-string', 6],
  ['non-finite-token', 4],
  ['unknown-field', 8],
  ['missing-field', 6],
  ['long-string', 6],
  ['deep-nesting', 4],
  ['unicode', 8],
  ['random-json', 8],
  ['invalid-utf8', 5],
  ['bom', 3],
  ['utf16', 2],
  ['empty', 4],
  ['oversized', 4],
  ['truncated', 5],
  ['duplicate-key', 3],
  ['prototype-key', 3],
  ['hostile-header', 7],
  ['flag-name', 5],
];
const STRATEGY_BAG = STRATEGIES.flatMap(([name, weight]) => Array<string>(weight).fill(name));

/**
 * Generates `count` admin requests over every write route: valid bodies, mutated ones (type
 * swaps, huge and non-finite numbers, unknown and missing fields, long and unicode strings, deep
 * nesting, duplicate and prototype keys), random JSON, invalid UTF-8, UTF-16, BOMs, empty,
 * truncated and oversized bodies, wrong content types, hostile headers and flag names.
 *
 * @example
 * const cases = adminFuzzCases(fuzzRandom(seed), 1200, world);
 */
export function adminFuzzCases(random: FuzzRandom, count: number, world: FuzzWorld): AdminFuzzCase[] {
  return Array.from({ length: count }, () => {
    let strategy = random.pick(STRATEGY_BAG);
    const route =
      strategy === 'flag-name'
        ? FUZZ_ADMIN_ROUTES.find((r) => r.path === '/flags/:name')!
        : random.pick(FUZZ_ADMIN_ROUTES);
    let flagName: string | undefined;
    if (route.path === '/flags/:name')
      flagName =
        strategy === 'flag-name'
          ? random.pick([...FLAG_NAMES, ...PROTOTYPE_NAMES, random.text(1 + random.int(70))])
          : random.pick(world.flagNames);
    if (strategy === 'flag-name') strategy = 'valid';
    const valid = route.validBody(random, world) as Json;
    const built = mutate(random, strategy, valid);
    const path = flagName === undefined ? route.path : `/flags/${encodeURIComponent(flagName)}`;
    return {
      strategy:
        flagName !== undefined && !world.flagNames.includes(flagName) ? `flag-name/${strategy}` : strategy,
      route,
      flagName,
      path,
      headers: { 'content-type': 'application/json', ...built.headers },
      body: built.body,
      chunked: built.chunked ?? false,
    };
  });
}
