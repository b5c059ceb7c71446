import type { FuzzRandom } from './random';

/** One hostile request to the splitter, as raw bytes plus what the test needs to judge it. */
export interface ProxyFuzzCase {
  strategy: string;
  bytes: Buffer;
  /** The one `Cookie` header sent, as the runtime reads it (bytes as Latin-1), if exactly one. */
  cookieHeader?: string;
  /** Visitor ids the request carried, any of which may legitimately decide the cohort. */
  carriedIds: string[];
  /** Header block size in bytes. */
  headerBytes: number;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';
const CONTROL_BYTES = [0x00, 0x01, 0x08, 0x0b, 0x0c, 0x0d, 0x1b, 0x7f, 0x0a];
const INVALID_IDS = [
  'abc',
  'x'.repeat(65),
  'has.dot.in.it',
  '"quoted-valid-id"',
  '',
  'a b c d e f g h',
  'tab\tinside1',
];
const SPOOFED_HEADERS: [string, string][] = [
  ['x-rollout-cohort', 'canary'],
  ['X-Rollout-Cohort', 'stable, canary'],
  ['x-feature-flags', '{"admin":true,"templates":"yes"}'],
  ['x-rollout-override', 'canary'],
  ['x-rollout-anything', '1'],
  ['x-forwarded-for', '6.6.6.6'],
  ['forwarded', 'for=6.6.6.6;host=evil.example'],
  ['x-forwarded-host', 'evil.example'],
  ['x-forwarded-proto', 'gopher'],
];
const HOSTILE_PATHS = [
  `/${'a'.repeat(8000)}`,
  '/%00',
  '/%ff%fe',
  '/..%2f..%2fetc/passwd',
  '//double//slashes',
  `/?q=${'x'.repeat(5000)}`,
  '/__ROLLOUT/state',
  '/__rollout-not-admin',
  '/a;b=c',
];

type Header = [string, string | Buffer];

function visitorId(random: FuzzRandom): string {
  return random.text(8 + random.int(57), ID_ALPHABET);
}

/** Builds a case: its headers (besides Host and Connection) and request target. */
function build(
  random: FuzzRandom,
  strategy: string,
): { path: string; headers: Header[]; carriedIds: string[] } {
  const id = visitorId(random);
  const path = `/api/fuzz/${random.int(1000)}`;
  const cookie = (value: string | Buffer): Header => ['Cookie', value];
  switch (strategy) {
    case 'oversized-cookie': {
      const pad = 'x'.repeat(random.pick([8_000, 16_500, 40_000, 100_000, 300_000]));
      return { path, headers: [cookie(`rollout_id=${id}; pad=${pad}`)], carriedIds: [id] };
    }
    case 'control-characters': {
      const at = random.int(id.length);
      const value = Buffer.concat([
        Buffer.from(`rollout_id=${id.slice(0, at)}`),
        Buffer.from([random.pick(CONTROL_BYTES)]),
        Buffer.from(id.slice(at)),
      ]);
      return { path, headers: [cookie(value)], carriedIds: [] };
    }
    case 'latin1-bytes':
      return {
        path,
        headers: [cookie(Buffer.concat([Buffer.from(`rollout_id=${id}`), Buffer.from([0xe9, 0xff])]))],
        carriedIds: [],
      };
    case 'unicode':
      return {
        path,
        headers: [
          cookie(
            Buffer.from(
              `rollout_id=${random.pick(['välïd-ünïcode', '💥💥💥💥', 'id\u202eevil'])}${id}`,
              'utf8',
            ),
          ),
        ],
        carriedIds: [],
      };
    case 'duplicate-pair': {
      const other = visitorId(random);
      return { path, headers: [cookie(`rollout_id=${id}; rollout_id=${other}`)], carriedIds: [id] };
    }
    case 'duplicate-header': {
      const other = visitorId(random);
      return {
        path,
        headers: [cookie(`rollout_id=${id}`), cookie(`rollout_id=${other}`)],
        carriedIds: [id, other],
      };
    }
    case 'many-cookies': {
      const count = random.pick([200, 1000, 3000]);
      const parts = Array.from({ length: count }, (_, i) => `c${i}=${i}`);
      parts.splice(random.int(count), 0, `rollout_id=${id}`);
      return { path, headers: [cookie(parts.join('; '))], carriedIds: [id] };
    }
    case 'invalid-id':
      return { path, headers: [cookie(`a=1; rollout_id=${random.pick(INVALID_IDS)}; b=2`)], carriedIds: [] };
    case 'odd-syntax':
      return {
        path,
        headers: [
          cookie(
            random.pick([
              `; ; =; rollout_id=${id}`,
              `rollout_id =${id}`,
              `rollout_id`,
              `=${id}`,
              `rollout_id==${id}`,
            ]),
          ),
        ],
        carriedIds: [id],
      };
    case 'spoofed-headers': {
      const chosen = SPOOFED_HEADERS.filter(() => random.chance(0.5));
      return { path, headers: [cookie(`rollout_id=${id}`), ...chosen], carriedIds: [id] };
    }
    case 'many-headers': {
      const count = random.pick([100, 500, 2000]);
      return {
        path,
        headers: [
          cookie(`rollout_id=${id}`),
          ...Array.from({ length: count }, (_, i): Header => [`x-h${i}`, `v${i}`]),
        ],
        carriedIds: [id],
      };
    }
    case 'long-header':
      return {
        path,
        headers: [cookie(`rollout_id=${id}`), ['x-long', 'a'.repeat(random.pick([10_000, 60_000, 200_000]))]],
        carriedIds: [id],
      };
    case 'hostile-path':
      return { path: random.pick(HOSTILE_PATHS), headers: [cookie(`rollout_id=${id}`)], carriedIds: [id] };
    case 'raw-utf8-path':
      return { path: `/ünï/💥?q=é`, headers: [cookie(`rollout_id=${id}`)], carriedIds: [id] };
    default:
      throw new Error(`unknown strategy ${strategy}`);
  }
}

const STRATEGIES = [
  'oversized-cookie',
  'control-characters',
  'latin1-bytes',
  'unicode',
  'duplicate-pair',
  'duplicate-header',
  'many-cookies',
  'invalid-id',
  'odd-syntax',
  'spoofed-headers',
  'many-headers',
  'long-header',
  'hostile-path',
  'raw-utf8-path',
];

/**
 * Generates hostile proxied requests: oversized, control-character, Latin-1 and unicode
 * cookies, duplicated and numerous cookies, invalid ids, spoofed rollout and forwarding headers,
 * many or huge headers and hostile paths.
 *
 * @example
 * for (const c of proxyFuzzCases(fuzzRandom(seed), 400, port)) await rawHttp(port, c.bytes);
 */
export function proxyFuzzCases(random: FuzzRandom, count: number, port: number): ProxyFuzzCase[] {
  return Array.from({ length: count }, () => {
    const strategy = random.pick(STRATEGIES);
    const { path, headers, carriedIds } = build(random, strategy);
    const head = Buffer.concat([
      Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`, 'utf8'),
      ...headers.map(([name, value]) =>
        Buffer.concat([Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n')]),
      ),
      Buffer.from('Connection: close\r\n\r\n'),
    ]);
    const cookies = headers.filter(([name]) => name === 'Cookie');
    return {
      strategy,
      bytes: head,
      cookieHeader: cookies.length === 1 ? Buffer.from(cookies[0]![1]).toString('latin1') : undefined,
      carriedIds,
      headerBytes: head.length,
    };
  });
}
