import { parseKillSwitch } from '../kill/kill-switch';

/** The kill switch as the admin API reports it. */
export interface KillState {
  canary: boolean;
  allFlags: boolean;
  flags: string[];
  /** The KV value as stored, or null when the key is absent. */
  raw: string | null;
}

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
