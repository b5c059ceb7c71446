import * as z from 'zod/mini';
import { base64UrlBytes } from '../encoding';

// Named, scoped admin tokens: who may call which admin route, and how the control Worker's
// `ADMIN_TOKENS` secret stores them (hashes only). Pure: hashing is WebCrypto, so the CLI that
// makes a token and the Worker that checks it share this file. docs/TOKENS.md is the guide.

/** The roles a token can have, from the most to the least powerful. */
export const ROLES = ['admin', 'operator', 'viewer', 'events'] as const;

/** A token's role. */
export type Role = (typeof ROLES)[number];

/**
 * What an admin route needs. `read`: state, audit, session, series, the OpenAPI document.
 * `operate`: ramp, transitions (promote, abort, pause, resume, undo), kill, flags, preview,
 * override links, the guard's run now. `configure`: the whole config (`PUT /config`). `events`:
 * the app's outcome relay (`POST /events`).
 */
export type Permission = 'read' | 'operate' | 'configure' | 'events';

/**
 * The role table: each role's permissions. `events` is deliberately alone: the app's servers hold
 * that token, and it must not even read the rollout's state.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: ['read', 'operate', 'configure', 'events'],
  operator: ['read', 'operate'],
  viewer: ['read'],
  events: ['events'],
};

/**
 * Whether `role` may do what `permission` names.
 *
 * @example
 * roleAllows('viewer', 'operate'); // false
 */
export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** The name `ADMIN_TOKEN` (the single, compatible token) is known by: it has the admin role. */
export const ADMIN_TOKEN_NAME = 'admin';

/** A token's name, as the audit log shows it: 1–64 chars of `[A-Za-z0-9_.@-]` (no `:` or `,`). */
export const TokenNameSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'a token name is 1–64 chars of [A-Za-z0-9_.@-]'));

const RoleSchema = z.enum(ROLES, { error: `a role is one of ${ROLES.join(', ')}` });

/** One entry of `ADMIN_TOKENS`: the token's name, its role and the SHA-256 of the token. */
export interface NamedTokenHash {
  name: string;
  role: Role;
  /** The 32 bytes of SHA-256(token), from 64 hex digits or 43 base64url characters. */
  sha256: Uint8Array;
}

/** The 32 bytes a hex or base64url SHA-256 digest spells, or undefined. */
function digestBytes(text: string): Uint8Array | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text))
    return Uint8Array.from(text.match(/../g)!, (pair) => Number.parseInt(pair, 16));
  if (/^[A-Za-z0-9_-]{43}$/.test(text)) return base64UrlBytes(text);
  return undefined;
}

const MAX_TOKENS = 100;

/**
 * The `ADMIN_TOKENS` secret: entries `name:role:sha256`, separated by newlines, commas or
 * spaces (`wrangler secret put` takes several lines; a `.env` file takes one). Blank entries and
 * `#` comment lines are skipped. Refused, with the entry's position (never its hash): a malformed
 * entry, an unknown role, a hash that is not 64 hex digits or 43 base64url characters, the same
 * hash twice, or one name with two roles. One name twice with the same role is allowed: that is
 * a rotation in progress.
 *
 * @example
 * AdminTokensSchema.parse('alice:operator:9f86d0…0f00a08\nci-deployer:operator:Xw…');
 */
export const AdminTokensSchema = z.pipe(
  z.string(),
  z.transform((text, ctx): NamedTokenHash[] => {
    const fail = (message: string) => {
      ctx.issues.push({ code: 'custom', message: `ADMIN_TOKENS: ${message}`, input: '(hidden)' });
      return z.NEVER;
    };
    const entries = text
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .flatMap((line) => line.split(/[\s,]+/))
      .filter(Boolean);
    if (entries.length > MAX_TOKENS) return fail(`at most ${MAX_TOKENS} tokens`);
    const tokens: NamedTokenHash[] = [];
    const seenHashes = new Set<string>();
    const roleOf = new Map<string, Role>();
    for (const [index, entry] of entries.entries()) {
      const at = `entry ${index + 1}`;
      const [name = '', role = '', hash = '', ...rest] = entry.split(':');
      if (rest.length > 0 || !hash) return fail(`${at} is not name:role:sha256`);
      const parsedName = TokenNameSchema.safeParse(name);
      if (!parsedName.success) return fail(`${at}: a token name is 1–64 chars of [A-Za-z0-9_.@-]`);
      const parsedRole = RoleSchema.safeParse(role);
      if (!parsedRole.success) return fail(`${at} (${name}): the role must be one of ${ROLES.join(', ')}`);
      const sha256 = digestBytes(hash);
      if (!sha256 || sha256.length !== 32)
        return fail(
          `${at} (${name}): the hash must be a SHA-256 in 64 hex digits or 43 base64url characters`,
        );
      const key = sha256.join(',');
      if (seenHashes.has(key)) return fail(`${at} (${name}): the same token hash is listed twice`);
      const earlierRole = roleOf.get(name);
      if (earlierRole !== undefined && earlierRole !== parsedRole.data)
        return fail(`${at}: ${name} is listed as both ${earlierRole} and ${parsedRole.data}`);
      seenHashes.add(key);
      roleOf.set(name, parsedRole.data);
      tokens.push({ name, role: parsedRole.data, sha256 });
    }
    return tokens;
  }),
);

/**
 * SHA-256 of a token's UTF-8 bytes.
 *
 * @example
 * toHex(await sha256Of('s3cret'));
 */
export async function sha256Of(token: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
}

/** Lower-case hex of some bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The entry whose hash equals `digest`, or undefined. Every entry is compared, each over all 32
 * bytes, so the time taken says nothing about which entry (or which byte) matched.
 */
export function findToken(tokens: readonly NamedTokenHash[], digest: Uint8Array): NamedTokenHash | undefined {
  let found: NamedTokenHash | undefined;
  for (const token of tokens) {
    let difference = token.sha256.length ^ digest.length;
    for (let i = 0; i < token.sha256.length; i++) difference |= token.sha256[i]! ^ (digest[i] ?? 0);
    if (difference === 0 && found === undefined) found = token;
  }
  return found;
}

/**
 * The audit actor of a token: its name, and the person the CLI names (`ROLLOUT_ACTOR`, sent as
 * `x-rollout-actor`) when a shared token is used.
 *
 * @example
 * tokenActor('ci-deployer', 'alice'); // 'ci-deployer (alice)'
 */
export function tokenActor(name: string, person?: string): string {
  return person === undefined || person === name ? name : `${name} (${person})`;
}

/** The line to add to `ADMIN_TOKENS` for a token. */
export function tokenHashLine(name: string, role: Role, digest: Uint8Array): string {
  return `${name}:${role}:${toHex(digest)}`;
}
