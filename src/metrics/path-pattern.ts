/**
 * Compiles a URLPattern-style pathname into an anchored RegExp: `:name` matches one non-empty
 * path segment, `*` matches anything (slashes included), every other character is literal.
 * URLPattern itself is missing from Node 20, and this subset is all business routes need, so
 * the Worker, the unit tests and the CLI share one implementation with one behaviour.
 *
 * @example
 * compilePathPattern('/api/templates/:id/use').test('/api/templates/42/use'); // true
 * compilePathPattern('/files/*').test('/files/a/b.png'); // true
 */
export function compilePathPattern(pattern: string): RegExp {
  let source = '';
  for (const token of pattern.match(/:[A-Za-z_][A-Za-z0-9_]*|\*|[^:*]+|:/g) ?? []) {
    if (token === '*') source += '.*';
    else if (token.length > 1 && token.startsWith(':')) source += '[^/]+';
    else source += escapeRegExp(token);
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
