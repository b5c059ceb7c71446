/**
 * The pure parts of the HTML flags bootstrap (`window.__FLAGS__`, injected at the start of
 * `<head>` by the edge's HTMLRewriter): the script itself, whether a page's charset can be
 * rewritten at all, and the page's own CSP nonce for the script to carry.
 */

/**
 * Serializes flags for an inline script. JSON alone is not safe inside `<script>`: `</script>`,
 * `<!--` and U+2028/2029 could break out or break parsing, so those characters are escaped. With
 * the page's CSP nonce (see {@link cspScriptNonce}) the script carries it, so a policy that allows
 * only nonced scripts runs it. Without one, a policy that restricts inline scripts must allow the
 * script by its hash, `'sha256-<base64 of SHA-256 of the text between the tags>'`: the text is
 * `window.__FLAGS__=<JSON>`, so there is one hash per combination of flag values the app serves.
 *
 * @example
 * flagsScript({ a: true }); // '<script>window.__FLAGS__={"a":true}</script>'
 * flagsScript({ a: true }, 'r4nd0m'); // '<script nonce="r4nd0m">window.__FLAGS__={"a":true}</script>'
 */
export function flagsScript(flags: Readonly<Record<string, unknown>>, nonce?: string): string {
  const json = JSON.stringify(flags).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  const attribute = nonce !== undefined && NONCE.test(nonce) ? ` nonce="${nonce}"` : '';
  return `<script${attribute}>window.__FLAGS__=${json}</script>`;
}

// A CSP nonce is base64 or base64url (CSP3 `base64-value`); anything else is never echoed into HTML.
const NONCE = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * The nonce the origin's `Content-Security-Policy` allows inline scripts with, if any: from the
 * directive that governs `<script>` elements (`script-src-elem`, else `script-src`, else
 * `default-src`) of the first policy that names one. Several policies (a comma-joined header)
 * are read in order.
 *
 * @example
 * cspScriptNonce("default-src 'self'; script-src 'nonce-abc123' 'strict-dynamic'"); // 'abc123'
 */
export function cspScriptNonce(policy: string | null): string | undefined {
  if (policy === null) return undefined;
  for (const single of policy.split(',')) {
    const directives = new Map<string, string[]>();
    for (const directive of single.split(';')) {
      const [name, ...values] = directive.trim().split(/\s+/);
      if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), values);
    }
    const sources =
      directives.get('script-src-elem') ?? directives.get('script-src') ?? directives.get('default-src');
    for (const source of sources ?? []) {
      const nonce = /^'nonce-([^']+)'$/i.exec(source)?.[1];
      if (nonce !== undefined && NONCE.test(nonce)) return nonce;
    }
  }
  return undefined;
}

/** Encodings HTMLRewriter (lol-html) refuses although they are known: not ASCII-compatible. */
const NOT_ASCII_COMPATIBLE = new Set(['utf-16le', 'utf-16be', 'iso-2022-jp']);

/**
 * Whether HTMLRewriter can rewrite a page of this `Content-Type`: it reads only ASCII-compatible
 * encodings it knows by their WHATWG label. Without a charset (UTF-8 then) it can. UTF-16, ISO-2022-JP,
 * and labels the WHATWG Encoding Standard does not know (`utf-7`, `cp932`, `binary`, …) it cannot:
 * it would throw, so the bootstrap is skipped and the page passed through untouched. `decoder`
 * resolves a label as `new TextDecoder(label).encoding` does (throwing a RangeError when unknown).
 *
 * @example
 * rewritableCharset('text/html; charset=utf-16'); // { rewritable: false, charset: 'utf-16' }
 * rewritableCharset('text/html; charset="Shift_JIS"'); // { rewritable: true }
 */
export function rewritableCharset(
  contentType: string,
  decoder: (label: string) => string = (label) => new TextDecoder(label).encoding,
): { rewritable: true } | { rewritable: false; charset: string } {
  const charset = /;\s*charset\s*=\s*("([^"]*)"|[^;\s]*)/i.exec(contentType);
  const label = (charset?.[2] ?? charset?.[1] ?? '').trim();
  if (label === '') return { rewritable: true };
  let encoding: string;
  try {
    encoding = decoder(label);
  } catch {
    return { rewritable: false, charset: label.slice(0, 40) };
  }
  return NOT_ASCII_COMPATIBLE.has(encoding)
    ? { rewritable: false, charset: label.slice(0, 40) }
    : { rewritable: true };
}
