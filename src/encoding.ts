/**
 * Bytes and text over Web-standard APIs: base64url (visitor ids, override tokens, JWTs) and
 * request bodies read as UTF-8 within a byte limit.
 */

/**
 * Decodes base64url (RFC 4648 §5, no padding) to bytes; undefined when it is not base64url.
 *
 * @example
 * base64UrlBytes('aGk'); // Uint8Array [104, 105]
 */
export function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * Encodes bytes as base64url (RFC 4648 §5) without padding.
 *
 * @example
 * base64UrlEncode(new Uint8Array([104, 105])); // 'aGk'
 */
export function base64UrlEncode(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** A request body read as UTF-8 text, or why it was refused. */
export type LimitedTextResult = { ok: true; text: string } | { ok: false; reason: 'too-large' | 'not-utf8' };

/**
 * Reads a request body as UTF-8 text, counting bytes while streaming and giving up as soon as
 * `maxBytes` is passed, whatever `Content-Length` claims: a chunked body of any size costs at
 * most `maxBytes` of memory.
 *
 * @example
 * const body = await readLimitedText(request, 64 * 1024);
 * if (!body.ok) return new Response(body.reason, { status: 400 });
 */
export async function readLimitedText(request: Request, maxBytes: number): Promise<LimitedTextResult> {
  if (Number(request.headers.get('content-length') ?? '0') > maxBytes)
    return { ok: false, reason: 'too-large' };
  if (!request.body) return { ok: true, text: '' };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return { ok: false, reason: 'too-large' };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    return { ok: false, reason: 'not-utf8' };
  }
}
