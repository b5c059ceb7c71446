import type * as z from 'zod/mini';
import { parseHandBypass, parseKillSwitch, unionKillSwitch } from '../config/config-schema';
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
 * Describes the kill switches the way the splitter reads them (same parser, both sources), so
 * what GET /state shows is what requests get.
 *
 * @example
 * killState('canary', 'flag:emailDelivery'); // { canary: true, flags: ['emailDelivery'], sources: { api: 'canary', hand: 'flag:emailDelivery' }, … }
 * killState('bypass', null, null).bypass; // { active: true, api: true, hand: null }
 */
export function killState(
  api: string | null,
  hand: string | null = null,
  handBypass: string | null = null,
): KillState {
  const kill = unionKillSwitch(parseKillSwitch(api), parseKillSwitch(hand));
  const texts = [api, hand].filter((text): text is string => text !== null && text.trim() !== '');
  const apiBypass = parseKillSwitch(api).bypass === true;
  const byHand = parseHandBypass(handBypass);
  return {
    canary: kill.canary,
    allFlags: kill.allFlags,
    flags: [...kill.flags].sort(),
    raw: texts.length ? texts.join(' ') : null,
    sources: { api, hand },
    // Shown while bypass is on or KV `bypass` holds anything: absent means off from both sources.
    ...(kill.bypass || handBypass !== null
      ? {
          bypass: {
            active: kill.bypass === true || byHand.on,
            api: apiBypass,
            hand: handBypass,
            ...(byHand.unreadable ? { handUnreadable: byHand.unreadable } : {}),
          },
        }
      : {}),
  };
}
