/**
 * A percent as ops read it: up to two decimals, no float noise.
 *
 * @example
 * formatPercent(12.5); // '12.5 %'
 */
export function formatPercent(percent: number): string {
  return `${Number(percent.toFixed(2))} %`;
}
