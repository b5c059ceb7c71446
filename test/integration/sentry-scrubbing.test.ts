import { describe, expect, it } from 'vitest';
import {
  scrubEvent,
  SentryDsnSchema,
  SentrySampleRateSchema,
} from '../../worker/shared/sentry/sentry-policy';

describe('scrubEvent', () => {
  it('keeps only allow-listed headers and drops cookies, query, body and the visitor IP', () => {
    const event = scrubEvent({
      request: {
        url: 'https://app.example.com/api/files?sig=abc#frag',
        query_string: 'sig=abc',
        cookies: { session: 's' },
        headers: {
          Authorization: 'Bearer t',
          cookie: 'a=b',
          'User-Agent': 'ua',
          'x-api-key': 'k',
          'cf-ray': 'r',
        },
        data: '{"card":"4111"}',
      },
      user: { id: 'u1', ip_address: '198.51.100.7' },
    });
    expect(event).toEqual({
      request: { url: 'https://app.example.com/api/files', headers: { 'User-Agent': 'ua', 'cf-ray': 'r' } },
      user: { id: 'u1' },
    });
  });

  it('removes query strings from URLs inside messages and exception values', () => {
    const event = scrubEvent({
      message: 'fetch http://10.0.0.1:8080/reset?token=abc&x=1 failed; see https://a.example/b',
      exception: { values: [{ value: 'GET https://api.example.com/v1?key=secret: 500' }, {}] },
    });
    expect(event.message).toBe('fetch http://10.0.0.1:8080/reset?[scrubbed] failed; see https://a.example/b');
    expect(event.exception?.values?.[0]?.value).toBe('GET https://api.example.com/v1?[scrubbed] 500');
  });
});

describe('Sentry settings schemas', () => {
  it.each([
    ['https://abc123@o1.ingest.sentry.io/456', true],
    ['http://key@127.0.0.1:9999/1', true],
    ['https://abc@sentry.example.com/prefix/7', true],
    ['https://sentry.io/456', false],
    ['abc@sentry.io/1', false],
    ['https://abc@sentry.io/project', false],
  ])('DSN %s is accepted: %s', (dsn, ok) => {
    expect(SentryDsnSchema.safeParse(dsn).success).toBe(ok);
  });

  it.each([
    ['0', 0],
    ['1', 1],
    ['0.25', 0.25],
    [' .5 ', 0.5],
    ['1.0', 1],
    ['1.5', undefined],
    ['-0.1', undefined],
    ['half', undefined],
    ['', undefined],
  ])('SENTRY_SAMPLE_RATE %j reads as %s', (text, rate) => {
    const parsed = SentrySampleRateSchema.safeParse(text);
    expect(parsed.success ? parsed.data : undefined).toBe(rate);
  });
});
