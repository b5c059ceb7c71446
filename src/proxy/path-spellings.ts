/**
 * Other spellings of a path prefix the edge answers itself (the admin prefix, the OFREP mount).
 * An origin that merges slashes, ignores case, strips `;params`, decodes `%2f`, or trims trailing
 * dots, spaces and NULs from a segment (IIS, Windows file servers, C string handling) would serve
 * such a spelling as the prefix itself, so none of them may ever be proxied.
 */

/**
 * A test for other spellings of `prefix`: any case, doubled slashes or backslashes, `;params`,
 * percent-encoding (decoded up to twice), and segments ending in dots, spaces or control bytes
 * (`/__rollout./state`, `/__rollout%20/state`, `/__rollout%00/state`). Paths that do not mention
 * the prefix's name and carry no `%` are ruled out at once.
 *
 * @example
 * prefixSpelling('/__rollout')('//__ROLLOUT;x/state'); // true
 * prefixSpelling('/ofrep')('/ofrep%2fflags'); // true
 */
export function prefixSpelling(prefix: string): (pathname: string) => boolean {
  const canonical = prefix.toLowerCase();
  const mention = new RegExp(escapeRegExp(prefix.slice(1)), 'i');
  return function isSpelling(pathname) {
    const encoded = pathname.includes('%');
    if (!encoded && !mention.test(pathname)) return false;
    let path = pathname;
    for (let round = 0; round < 2 && path.includes('%'); round++) path = percentDecode(path);
    path = path
      .toLowerCase()
      .replace(/\\/g, '/')
      .replace(/;[^/]*/g, '')
      .replace(/\/{2,}/g, '/')
      .split('/')
      .map(trimSegment)
      .join('/');
    return path === canonical || path.startsWith(`${canonical}/`);
  };
}

/** A segment as a lenient server reads it: trailing dots, spaces and control bytes dropped (not `.` or `..`). */
function trimSegment(segment: string): string {
  if (/^\.{1,2}$/.test(segment)) return segment;
  // eslint-disable-next-line no-control-regex
  return segment.replace(/^[\s\x00-\x1f]+|[.\s\x00-\x1f]+$/g, '');
}

/** Decodes `%XX` escapes byte by byte (never throws, unlike decodeURIComponent). */
function percentDecode(path: string): string {
  return path.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
