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
