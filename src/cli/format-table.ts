/**
 * A plain-text table: a header row and left-aligned columns two spaces apart, no trailing
 * spaces. Cells are single-line (newlines become spaces) so a value cannot break the layout.
 *
 * @example
 * formatTable(['NAME', 'ON'], [['templates', 'yes']]);
 * // 'NAME       ON\ntemplates  yes'
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = [headers, ...rows].map((row) => headers.map((_, i) => (row[i] ?? '').replace(/\s+/g, ' ')));
  const widths = headers.map((_, i) => Math.max(...clean.map((row) => row[i]!.length)));
  return clean
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
