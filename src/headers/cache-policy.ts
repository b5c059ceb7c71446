/**
 * Keeps a shared cache in front of the Worker from serving one cohort's response to the other.
 * `public` and `s-maxage` are replaced by `private`, which keeps `max-age`: a browser belongs to
 * one sticky cohort, so its private cache stays correct, while CDNs and proxies store nothing.
 * Responses without `Cache-Control` are left alone (shared caches do not store them by default
 * for HTML; hashed assets are normally distinct per deployment).
 *
 * @example
 * privateCacheControl('public, max-age=600, s-maxage=3600'); // 'private, max-age=600'
 */
export function privateCacheControl(value: string | null): string | null {
  if (value === null) return null;
  const directives = value
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  const shared = directives.some((d) => /^(public|s-maxage\b)/i.test(d));
  if (!shared) return value;
  const kept = directives.filter((d) => !/^(public|s-maxage\b|private)/i.test(d));
  return ['private', ...kept].join(', ');
}
