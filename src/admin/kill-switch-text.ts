import type * as z from 'zod/mini';
import { parseKillSwitch } from '../config/config-schema';
import type { KillStateSchema } from './admin-schemas';

/** What `PUT /kill` forces off. */
export interface KillRequest {
  canary?: boolean;
  allFlags?: boolean;
  flags?: readonly string[];
}

/**
 * Writes a kill request in the same token format ops type by hand with `wrangler kv key put`,
 * so the KV value stays readable and parseKillSwitch reads both the same way.
 *
 * @example
 * killSwitchText({ canary: true, flags: ['emailDelivery'] }); // 'canary flag:emailDelivery'
 */
export function killSwitchText(request: KillRequest): string {
  const tokens: string[] = [];
  if (request.canary) tokens.push('canary');
  if (request.allFlags) tokens.push('flags');
  for (const name of new Set(request.flags ?? [])) tokens.push(`flag:${name}`);
  return tokens.join(' ');
}

/** The kill switch as the admin API reports it ({@link KillStateSchema}). */
export type KillState = z.infer<typeof KillStateSchema>;

/**
 * Describes a kill switch value the way the splitter reads it (same parser), so what GET /state
 * shows is what requests get.
 *
 * @example
 * killState('canary flag:emailDelivery'); // { canary: true, allFlags: false, flags: ['emailDelivery'], raw: '…' }
 */
export function killState(text: string | null): KillState {
  const kill = parseKillSwitch(text);
  return { canary: kill.canary, allFlags: kill.allFlags, flags: [...kill.flags].sort(), raw: text };
}
