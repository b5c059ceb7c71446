/**
 * Every `Set-Cookie` of a header list, each on its own. Iterating Headers may fold them into
 * one comma-joined value, which breaks cookies whose `Expires` contains a comma.
 *
 * @example
 * setCookies(response.headers); // ['a=1; Path=/', 'b=2; HttpOnly']
 */
export function setCookies(headers: Headers): string[] {
  // Some type packages (pulled in by dependencies) predate getSetCookie; every runtime we run on has it.
  return (headers as Headers & { getSetCookie(): string[] }).getSetCookie();
}
