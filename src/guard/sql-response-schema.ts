import * as z from 'zod/mini';

/**
 * The Analytics Engine SQL API's `FORMAT JSON` answer (ClickHouse's JSON format): column names
 * and types, the rows as objects, and row counts. `rows_before_limit_at_least` only comes with
 * a LIMIT.
 */
export const SqlJsonResponseSchema = z.object({
  meta: z.array(z.object({ name: z.string(), type: z.string() })),
  data: z.array(z.record(z.string(), z.unknown())),
  rows: z.number(),
  rows_before_limit_at_least: z.optional(z.number()),
});

/** A validated SQL API answer. */
export type SqlJsonResponse = z.infer<typeof SqlJsonResponseSchema>;

/**
 * A numeric cell. 64-bit integers (e.g. `SUM(_sample_interval)`, a UInt64) arrive as strings in
 * ClickHouse's JSON format so that JavaScript cannot lose precision; floats arrive as numbers.
 */
export const NumericCellSchema = z.union([
  z.number().check(z.refine(Number.isFinite, 'must be a finite number')),
  z.pipe(
    z.string().check(z.regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, 'must be a numeric string')),
    z.transform(Number),
  ),
]);
