/**
 * "Did you mean …?" for names typed by hand (flag names in the launch file, on the command line):
 * the known names closest to the typed one by edit distance, so a typo is answered with the fix
 * instead of a list to read.
 */

/**
 * The Levenshtein distance: how many single-character insertions, deletions or substitutions
 * turn `a` into `b`. Case counts (flag names are case-sensitive). O(|a|·|b|) time, O(|b|) space.
 *
 * @example
 * editDistance('emailDelivry', 'emailDelivery'); // 1
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * The known names within a third of the typed name's length (at least 2 edits, so short names
 * still get a hint), closest first; ties keep the known names' order. Empty when nothing is close:
 * a suggestion far from what was typed misleads more than it helps.
 *
 * @example
 * closestNames('emailDelivry', ['fileStorage', 'emailDelivery']); // ['emailDelivery']
 * closestNames('xyz', ['fileStorage']); // []
 */
export function closestNames(typed: string, known: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(typed.length / 3));
  return known
    .map((name, index) => ({ name, index, distance: editDistance(typed.toLowerCase(), name.toLowerCase()) }))
    .filter(({ distance }) => distance <= limit)
    .sort((x, y) => x.distance - y.distance || x.index - y.index)
    .map(({ name }) => name);
}

/**
 * The sentence that names an unknown name and, when one is close, the fix.
 *
 * @example
 * unknownNameMessage('flag', 'emailDelivry', ['fileStorage', 'emailDelivery']);
 * // 'unknown flag "emailDelivry": did you mean emailDelivery? (known: fileStorage, emailDelivery)'
 */
export function unknownNameMessage(kind: string, typed: string, known: readonly string[]): string {
  const [best] = closestNames(typed, known);
  const hint = best === undefined ? '' : `: did you mean ${best}?`;
  return `unknown ${kind} "${typed}"${hint} (known: ${known.join(', ') || 'none'})`;
}

const UNKNOWN_FLAG = /flag "([^"]{1,64})" is not in the config \(known: ([^)]*)\)/;

/**
 * For the admin API's refusal of a flag its config lacks (`400 unknown flag`, whose issue lists
 * the known names), the line that suggests the closest known one. Undefined for any other error,
 * or when no known name is close.
 *
 * @example
 * unknownFlagHint({ message: '… answered 400: unknown flag', issues: ['flag "emailDelivry" is not in the config (known: templates, emailDelivery); …'] });
 * // 'Did you mean emailDelivery?'
 */
export function unknownFlagHint(error: { message: string; issues: readonly string[] }): string | undefined {
  for (const text of [error.message, ...error.issues]) {
    const match = UNKNOWN_FLAG.exec(text);
    if (!match) continue;
    const known = match[2] === 'none' ? [] : match[2]!.split(', ').filter(Boolean);
    const [best] = closestNames(match[1]!, known);
    return best === undefined ? undefined : `Did you mean ${best}?`;
  }
  return undefined;
}
