import * as z from 'zod/mini';

/** An http(s) origin base URL with no query or fragment; a path prefix is allowed. */
export const OriginUrlSchema = z.string().check(
  z.refine((value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash && !url.username
      );
    } catch {
      return false;
    }
  }, 'origins must be http(s) URLs without query, fragment or credentials'),
);
