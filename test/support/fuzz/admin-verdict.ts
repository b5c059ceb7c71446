import { ActorLabelSchema, IfMatchSchema } from '../../../src/admin/admin-schemas';
import { FlagNameSchema } from '../../../src/config/config-schema';
import type { AdminFuzzCase } from './admin-cases';

/** Whether the documented contract accepts a case's input, and the body it parses to. */
export type AdminVerdict = { valid: true; body: Record<string, unknown> } | { valid: false; why: string };

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Classifies a case by the admin API's documented input contract, independently of the Worker:
 * a same-origin (or non-browser) caller, a valid `x-rollout-actor` and `If-Match` when sent, a
 * body of at most 64 KiB of UTF-8 JSON (empty reads as `{}` where a body is optional) that the
 * route's zod schema accepts, and a valid flag name. Header values are judged as HTTP delivers
 * them, without surrounding whitespace. A valid input may still be refused for what it would
 * do (a lifecycle conflict, a stale version); an invalid one must never be accepted.
 *
 * @example
 * const verdict = adminVerdict(fuzzCase);
 * if (!verdict.valid && status < 300) failures.push(verdict.why);
 */
export function adminVerdict(fuzzCase: AdminFuzzCase): AdminVerdict {
  const header = (name: string) => fuzzCase.headers[name]?.trim();
  const site = header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return invalid('cross-site write');
  if (header('origin') !== undefined) return invalid('cross-origin write');
  const actor = header('x-rollout-actor');
  if (actor !== undefined && !ActorLabelSchema.safeParse(actor).success)
    return invalid('bad x-rollout-actor');
  if (fuzzCase.body.length > MAX_BODY_BYTES) return invalid('oversized body');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(fuzzCase.body);
  } catch {
    return invalid('not UTF-8');
  }
  let value: unknown = {};
  if (text.trim() === '') {
    if (fuzzCase.route.required) return invalid('empty body');
  } else {
    try {
      value = JSON.parse(text);
    } catch {
      return invalid('not JSON');
    }
  }
  // Checked literally, not through the Worker's schemas, so a schema grown too lax is caught.
  if (percentsBreakContract(value)) return invalid('percent outside 0–100 or with more than two decimals');
  const parsed = fuzzCase.route.schema.safeParse(value);
  if (!parsed.success) return invalid('schema');
  if (fuzzCase.flagName !== undefined && !FlagNameSchema.safeParse(fuzzCase.flagName).success)
    return invalid('bad flag name');
  const ifMatch = header('if-match');
  if (fuzzCase.route.usesIfMatch && ifMatch !== undefined && !IfMatchSchema.safeParse(ifMatch).success)
    return invalid('bad If-Match');
  return { valid: true, body: parsed.data as Record<string, unknown> };
}

/** Whether a body carries a `percent` (top level or under `rollout`) that is not a 0–100 number with ≤ 2 decimals. */
function percentsBreakContract(value: unknown): boolean {
  const percents: unknown[] = [];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    if ('percent' in record) percents.push(record.percent);
    const rollout = record.rollout;
    if (rollout && typeof rollout === 'object' && 'percent' in rollout)
      percents.push((rollout as Record<string, unknown>).percent);
  }
  return percents.some(
    (p) => typeof p !== 'number' || !(p >= 0 && p <= 100) || Math.abs(p * 100 - Math.round(p * 100)) > 1e-9,
  );
}

function invalid(why: string): AdminVerdict {
  return { valid: false, why };
}
