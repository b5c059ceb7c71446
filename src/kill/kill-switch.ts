/** KV key of the kill switch, next to `config` in the ROLLOUT namespace. */
export const KILL_SWITCH_KEY = 'kill';

/** What the kill switch currently forces, whatever the config says. */
export interface KillSwitch {
  /** Everyone to stable. */
  canary: boolean;
  /** Every flag off. */
  allFlags: boolean;
  /** These flags off. */
  flags: ReadonlySet<string>;
  /** Tokens that meant nothing; logged, never fatal. */
  unknownTokens: string[];
}

/** The kill switch when the key is absent. */
export const NO_KILL: KillSwitch = Object.freeze({
  canary: false,
  allFlags: false,
  flags: new Set<string>(),
  unknownTokens: [],
});

const MAX_KILL_TEXT = 4096;

/**
 * Parses the kill switch value: tokens separated by spaces or commas.
 * `canary` stops the canary, `flag:NAME` forces one flag off, `flags` forces all flags off,
 * `all` does both. Unknown tokens are collected for a warning, never thrown.
 *
 * @example
 * parseKillSwitch('canary flag:emailDelivery'); // { canary: true, flags: {'emailDelivery'}, ... }
 */
export function parseKillSwitch(text: string | null): KillSwitch {
  if (text === null || text.trim() === '') return NO_KILL;
  const flags = new Set<string>();
  const unknownTokens: string[] = [];
  let canary = false;
  let allFlags = false;
  for (const token of text
    .slice(0, MAX_KILL_TEXT)
    .split(/[\s,]+/)
    .filter(Boolean)) {
    const lower = token.toLowerCase();
    if (lower === 'canary') canary = true;
    else if (lower === 'flags') allFlags = true;
    else if (lower === 'all') canary = allFlags = true;
    else if (lower.startsWith('flag:') && token.length > 5) flags.add(token.slice(5));
    else unknownTokens.push(token.slice(0, 64));
  }
  return { canary, allFlags, flags, unknownTokens };
}
