import type { StatsWindow } from '../metrics/queries';

export type { StatsWindow };

/**
 * Describes a window in words, for verdicts and notifications.
 *
 * @example
 * describeWindow({ lastMinutes: 5 }); // 'last 5 min'
 */
export function describeWindow(window: StatsWindow): string {
  return 'lastMinutes' in window
    ? `last ${window.lastMinutes} min`
    : `since ${new Date(window.sinceEpochSeconds * 1000).toISOString()}`;
}
