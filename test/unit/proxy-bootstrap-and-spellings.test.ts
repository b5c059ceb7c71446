import { describe, expect, it } from 'vitest';
import { isSharedCachePath } from '../../src/proxy/client-response-headers';
import { cspScriptNonce, flagsScript, rewritableCharset } from '../../src/proxy/flags-bootstrap';
import { prefixSpelling } from '../../src/proxy/path-spellings';
import { declaredLength, startUpload } from '../../src/proxy/upload-body';

describe('the flags bootstrap', () => {
  it.each([
    ["script-src 'nonce-abc123' 'strict-dynamic'", 'abc123'],
    ["default-src 'self' 'nonce-Zm9v+/bar=='", 'Zm9v+/bar=='],
    ["script-src-elem 'nonce-elem'; script-src 'nonce-other'", 'elem'],
    ["img-src 'nonce-notforscripts'; script-src 'self'", undefined],
    ["default-src 'self', script-src 'nonce-second'", 'second'],
    ["script-src 'nonce-\"><script>x'", undefined],
    [null, undefined],
  ])('reads the script nonce of %j as %j', (policy, nonce) => {
    expect(cspScriptNonce(policy)).toBe(nonce);
  });

  it('puts a valid nonce on the script and never echoes anything else into the HTML', () => {
    expect(flagsScript({ a: true }, 'abc123')).toBe(
      '<script nonce="abc123">window.__FLAGS__={"a":true}</script>',
    );
    expect(flagsScript({ a: true }, '"><img src=x>')).toBe('<script>window.__FLAGS__={"a":true}</script>');
  });

  it.each([
    ['text/html', true],
    ['text/html; charset=utf-8', true],
    ['text/html; charset="Shift_JIS"', true],
    ['text/html;charset=windows-1252', true],
    ['text/html; charset=utf-16', false],
    ['text/html; charset=UTF-16BE', false],
    ['text/html; charset=iso-2022-jp', false],
    ['text/html; charset=utf-7', false],
    ['text/html; charset=cp932', false],
    ['text/html; charset=binary', false],
    ['text/html; charset=no-such-label', false],
  ])('%s is rewritable by HTMLRewriter: %s', (contentType, rewritable) => {
    expect(rewritableCharset(contentType).rewritable).toBe(rewritable);
  });
});

describe('spellings of a prefix', () => {
  const admin = prefixSpelling('/__rollout');
  const ofrep = prefixSpelling('/ofrep');
  it.each([
    '/__rollout./state',
    '/__rollout%20/state',
    '/__rollout%00/state',
    '/__rollout%2e%2e%2e/state',
    '/__ROLLOUT;x/state',
    '//__rollout',
  ])('%s spells the admin prefix', (path) => expect(admin(path)).toBe(true));
  it.each(['/OFREP/flags', '//ofrep/flags', '/ofrep%2fflags', '/ofrep./flags'])(
    '%s spells the OFREP mount',
    (path) => expect(ofrep(path)).toBe(true),
  );
  it.each(['/__rolloutx/state', '/blog/__rollout', '/ofrep-docs', '/x/../ofrepx'])('%s does not', (path) => {
    expect(admin(path)).toBe(false);
    expect(ofrep(path)).toBe(false);
  });
});

describe('shared-cache paths with path parameters', () => {
  it.each(['/assets/..;/account', '/assets/..%3b/account', '/assets/..%3B/account', '/assets/a.js;x=1'])(
    '%s is never shared',
    (path) => expect(isSharedCachePath(path, ['/assets/'])).toBe(false),
  );
  it('keeps a plain asset shared', () =>
    expect(isSharedCachePath('/assets/app.3f9a.js', ['/assets/'])).toBe(true));
});

describe('an upload through the proxy', () => {
  const clock = { now: () => 0 };
  const body = (chunks: number[], end: 'close' | 'error' = 'close') =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const size of chunks) controller.enqueue(new Uint8Array(size));
        if (end === 'close') controller.close();
        else controller.error(new Error('gone'));
      },
    });
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    let bytes = 0;
    try {
      for await (const chunk of stream) bytes += chunk.byteLength;
    } catch {
      return -1;
    }
    return bytes;
  };

  it('reads the declared length only when it is a plain number', () => {
    expect(declaredLength(new Headers({ 'content-length': '300000' }))).toBe(300_000);
    expect(declaredLength(new Headers({ 'content-length': '-1' }))).toBeUndefined();
    expect(declaredLength(new Headers())).toBeUndefined();
  });

  it('ends `sent` when every declared byte went through', async () => {
    const upload = startUpload(body([1000, 1000]), 2000, clock);
    const [bytes, end] = await Promise.all([drain(upload.body), upload.finished]);
    expect([bytes, end, upload.clientFault()]).toEqual([2000, 'sent', undefined]);
  });

  it.each([
    [[1024], 'close', 100_000, /ended after 1024 of 100000 bytes/],
    [[1024], 'error', 100_000, /request body broken after \d+ bytes/],
    [[3000], 'close', 2000, /longer than its content-length 2000/],
  ] as const)(
    'blames the visitor for a body of %j that ends with %s against %d declared',
    async (chunks, end, length, why) => {
      const upload = startUpload(body([...chunks], end), length, clock);
      const [bytes, ended] = await Promise.all([drain(upload.body), upload.finished]);
      expect(ended).toBe('client-failed');
      expect(bytes).toBe(-1);
      expect(upload.clientFault()).toMatch(why);
    },
  );
});
