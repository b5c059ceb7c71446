import { describe, expect, it } from 'vitest';
import { parsePublicUrl } from '../../src/proxy/origin-request-headers';

const URLS = [
  'https://app.example.com/',
  'https://app.example.com/api/invoices?token=x&b=%20y',
  'http://127.0.0.1:8787/a/b/c',
  'https://app.example.com:8443/x?',
  'https://app.example.com/x?#frag',
  'https://app.example.com/x?q=1#frag?not-query',
  'https://app.example.com/%2F__rollout/state',
  'https://app.example.com/a?b=/c?d',
  'http://[::1]:8080/ipv6?x=1',
  'https://user:pass@app.example.com/credentials?x=1',
  'https://xn--bcher-kva.example/b%C3%BCcher',
];

describe('parsePublicUrl', () => {
  it.each(URLS)('gives the parts new URL gives for %s', (text) => {
    // As the runtime hands it over: serialized by the URL parser.
    const url = new URL(text);
    const parsed = parsePublicUrl(url.href);
    expect({
      origin: parsed.origin,
      protocol: parsed.protocol,
      host: parsed.host,
      pathname: parsed.pathname,
      search: parsed.search,
    }).toEqual({
      origin: url.origin,
      protocol: url.protocol,
      host: url.host,
      pathname: url.pathname,
      search: url.search,
    });
  });
});
