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
