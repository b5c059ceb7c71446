const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Random lower-case alphanumerics from the platform's CSPRNG, for audit key suffixes and fresh
 * salts. Rejection sampling keeps every character equally likely.
 *
 * @example
 * randomText(6); // 'k3x9qa'
 */
export function randomText(length: number): string {
  let text = '';
  while (text.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      // 252 = 7 × 36: bytes above it would favour the first characters.
      if (byte < 252 && text.length < length) text += ALPHABET[byte % ALPHABET.length];
    }
  }
  return text;
}
