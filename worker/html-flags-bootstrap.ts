/**
 * Serializes flags for an inline script. JSON alone is not safe inside `<script>`: `</script>`,
 * `<!--` and U+2028/2029 could break out or break parsing, so those characters are escaped.
 *
 * @example
 * flagsScript({ a: true }); // '<script>window.__FLAGS__={"a":true}</script>'
 */
export function flagsScript(flags: Readonly<Record<string, boolean>>): string {
  const json = JSON.stringify(flags).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `<script>window.__FLAGS__=${json}</script>`;
}

/**
 * Injects the flags bootstrap at the start of `<head>` of an HTML response, streaming.
 *
 * @example
 * return injectFlagsBootstrap(response, { templates: true });
 */
export function injectFlagsBootstrap(response: Response, flags: Readonly<Record<string, boolean>>): Response {
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.toLowerCase().startsWith('text/html') || response.body === null) return response;
  const script = flagsScript(flags);
  return new HTMLRewriter()
    .on('head', {
      element(head) {
        head.prepend(script, { html: true });
      },
    })
    .transform(response);
}
