import * as z from 'zod/mini';

/** Flag names: short identifiers, safe as JSON keys, KV tokens and header content. */
export const FlagNameSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/,
      'flag names are 1–64 chars of [A-Za-z0-9_.-], starting with a letter',
    ),
  );

/** A cookie name as RFC 6265 allows it (a token), kept short. */
export const CookieNameSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'cookie names are 1–64 chars of [A-Za-z0-9_-]'));

/** An HTTP header name (lower-case token). */
export const HeaderNameSchema = z
  .string()
  .check(z.regex(/^[a-z0-9-]{1,64}$/, 'header names are 1–64 lower-case chars of [a-z0-9-]'));

/** Business route names, used as an Analytics Engine blob. */
export const RouteNameSchema = z
  .string()
  .check(
    z.regex(/^[a-z][a-z0-9_]{0,31}$/, 'route names are 1–32 chars of [a-z0-9_], starting with a letter'),
  );
