import * as z from 'zod/mini';
import { ReasonSchema } from '../admin/admin-bodies';
import { FlagNameSchema } from '../config/names';
import { PercentSchema } from '../config/percent';

/**
 * A percent typed on the command line: `10`, `12.5` or `12.5%`, then the core's PercentSchema
 * (0–100, at most two decimals).
 *
 * @example
 * PercentArgSchema.parse('12.5%'); // 12.5
 */
export const PercentArgSchema = z.pipe(
  z
    .string()
    .check(z.regex(/^\d{1,3}(?:\.\d+)?%?$/, 'percent must be a number from 0 to 100, e.g. 10 or 12.5')),
  z.pipe(
    z.transform((text: string) => Number(text.replace('%', ''))),
    PercentSchema,
  ),
);

/** A flag name argument: the core's FlagNameSchema. */
export const FlagNameArgSchema = FlagNameSchema;

/** The reason recorded in the audit log: the admin API's ReasonSchema. */
export const ReasonArgSchema = ReasonSchema;

/** `on` or `off`, as a boolean. */
export const OnOffArgSchema = z.pipe(
  z.enum(['on', 'off'], { error: 'say on or off' }),
  z.transform((word: 'on' | 'off') => word === 'on'),
);

/** What `kill` forces off, as the admin API's `PUT /kill` body takes it. */
export interface KillTargets {
  canary: boolean;
  allFlags: boolean;
  flags: string[];
}

const KillTokenSchema = z
  .string()
  .check(z.regex(/^(?:canary|flags|flag:.*)$/, 'a kill target is canary, flags or flag:<name>'));

/**
 * Kill targets: `canary`, `flags` (every flag) and `flag:<name>`, any number of them.
 *
 * @example
 * KillTargetsArgSchema.parse(['canary', 'flag:emailDelivery']);
 * // { canary: true, allFlags: false, flags: ['emailDelivery'] }
 */
export const KillTargetsArgSchema = z.pipe(
  z.array(KillTokenSchema).check(z.minLength(1, 'name what to kill: canary, flags or flag:<name>')),
  z.pipe(
    z.transform((tokens: string[]): KillTargets => ({
      canary: tokens.includes('canary'),
      allFlags: tokens.includes('flags'),
      flags: [...new Set(tokens.filter((t) => t.startsWith('flag:')).map((t) => t.slice(5)))],
    })),
    z.strictObject({ canary: z.boolean(), allFlags: z.boolean(), flags: z.array(FlagNameSchema) }),
  ),
);

/** How many audit entries to show: 1–1000. */
export const LimitArgSchema = z.pipe(
  z.string().check(z.regex(/^\d{1,4}$/, 'limit must be a whole number from 1 to 1000')),
  z.pipe(
    z.transform(Number),
    z.int().check(z.gte(1, 'limit must be at least 1'), z.lte(1000, 'limit must be at most 1000')),
  ),
);

/** How far back `audit --since` reaches: a span before now, or a moment. */
export type Since = { agoMs: number } | { atMs: number };

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `--since`: a span (`30m`, `24h`, `7d`) or an ISO date-time (`2026-11-25T12:00:00Z`).
 *
 * @example
 * SinceArgSchema.parse('24h'); // { agoMs: 86400000 }
 */
export const SinceArgSchema = z.pipe(
  z.union([z.string().check(z.regex(/^\d{1,5}[mhd]$/)), z.iso.datetime({ offset: true })], {
    error: 'since must be a span like 30m, 24h or 7d, or an ISO date-time',
  }),
  z.transform((text: string): Since => {
    const span = /^(\d+)([mhd])$/.exec(text);
    if (span) return { agoMs: Number(span[1]) * UNIT_MS[span[2] as keyof typeof UNIT_MS] };
    return { atMs: Date.parse(text) };
  }),
);

/** An audit page cursor, passed back as the API gave it. */
export const CursorArgSchema = z.string().check(z.minLength(1), z.maxLength(2048));
