import * as z from 'zod/mini';

/** What an audit entry records: an admin command's type, or a kill switch change. */
export const AuditActionSchema = z.enum([
  'set-percent',
  'replace-config',
  'set-flag',
  'promote',
  'finalize',
  'abort',
  'pause',
  'resume',
  'undo',
  'kill',
  'unkill',
]);

/** One of the audited actions. */
export type AuditAction = z.infer<typeof AuditActionSchema>;

/**
 * One audit log entry, stored under its own `audit:` key. `before`/`after` hold whole configs
 * for config changes and `{ kill: text | null }` for kill switch changes.
 */
export const AuditEntrySchema = z.object({
  id: z.string().check(z.minLength(1)),
  at: z.iso.datetime(),
  actor: z.string().check(z.minLength(1)),
  action: AuditActionSchema,
  before: z.unknown(),
  after: z.unknown(),
  /** The config version after the change (unchanged by kill switch changes). */
  version: z.int().check(z.gte(0)),
  reason: z.optional(z.string()),
});

/** A validated audit entry. */
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
