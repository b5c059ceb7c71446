import { BLOB_COLUMNS, DOUBLE_COLUMNS, INDEX_COLUMN } from '../../src/metrics/data-point-schema';
import { SAMPLE_INTERVAL } from '../../src/metrics/queries';

/**
 * The functions our queries may call: a subset of what the Analytics Engine SQL API documents,
 * plus `toUInt32`/`intDiv`/`toDateTime`, which the datasource's `$timeSeries`/`$timeFilter`
 * macros expand to. Bare `quantile(`, `avg(` and `count(` are not here on purpose: they ignore
 * `_sample_interval` and so misread sampled data.
 */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  'SUM',
  'if',
  'quantileExactWeighted',
  'max',
  'toUInt32',
  'toStartOfMinute',
  'intDiv',
  'toDateTime',
  'NOW',
]);

/** Grafana and datasource macros the dashboards and rules use. */
const ALLOWED_MACROS = new Set(['$timeSeries', '$timeFilter', '$interval', '${dataset}']);

/** Words followed by `(` that are SQL syntax, not function calls. */
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'FROM', 'WHERE', 'AS', 'IN', 'SELECT', 'BY']);

const DECLARED_COLUMNS = new Set<string>([
  ...Object.values(BLOB_COLUMNS),
  ...Object.values(DOUBLE_COLUMNS),
  INDEX_COLUMN,
]);

/**
 * Checks a query against the data point schema and the SQL API's rules. Returns the problems
 * (empty when the query is fine): undeclared `blobN`/`doubleN`/`indexN` columns, functions
 * outside {@link ALLOWED_FUNCTIONS}, unknown macros, and aggregates not weighted by
 * `_sample_interval`.
 *
 * @example
 * checkAnalyticsSql('SELECT avg(double1) FROM edge_rollout'); // ['function avg( is not allowed …', …]
 */
export function checkAnalyticsSql(sql: string): string[] {
  const problems: string[] = [];
  const code = sql.replace(/'[^']*'/g, "''");
  if (!code.includes(SAMPLE_INTERVAL))
    problems.push(`never uses ${SAMPLE_INTERVAL}: sampled rows would be miscounted`);

  for (const [, column] of code.matchAll(/\b((?:blob|double|index)\d+)\b/g))
    if (!DECLARED_COLUMNS.has(column!))
      problems.push(`column ${column} is not declared in data-point-schema.ts`);

  for (const [, name] of code.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)) {
    if (KEYWORDS.has(name!.toUpperCase())) continue;
    if (!ALLOWED_FUNCTIONS.has(name!))
      problems.push(`function ${name}( is not allowed (not weighted or not in the SQL API)`);
  }

  for (const [macro] of code.matchAll(/\$\{?[A-Za-z_]+\}?/g))
    if (!ALLOWED_MACROS.has(macro)) problems.push(`unknown macro ${macro}`);

  for (const argument of callArguments(code, 'SUM'))
    if (!argument.includes(SAMPLE_INTERVAL) && !isStoredCount(code, argument))
      problems.push(`SUM(${argument}) is not weighted by ${SAMPLE_INTERVAL}`);
  for (const argument of callArguments(code, 'quantileExactWeighted', true))
    if (!argument.includes(SAMPLE_INTERVAL))
      problems.push(`quantileExactWeighted(…)(${argument}) is not weighted by ${SAMPLE_INTERVAL}`);
  return problems;
}

/**
 * A deliberate count of stored rows (`storedCount`, `storedOccurrences` in src/metrics/queries.ts):
 * `SUM(if(cond, 1 | double5, 0))` under an alias that starts with `stored`, which the guard's
 * exact tests judge. Anything else unweighted is still a mistake.
 */
function isStoredCount(code: string, argument: string): boolean {
  if (!/^if\(.*, (1|double5), 0\)$/s.test(argument.trim())) return false;
  const at = code.indexOf(`SUM(${argument})`);
  return at >= 0 && /^\s+AS stored[A-Z]\w*/.test(code.slice(at + argument.length + 5));
}

/** The argument text of each call of `name(…)`; for parametric functions, of the second `(…)`. */
function callArguments(code: string, name: string, parametric = false): string[] {
  const found: string[] = [];
  const pattern = new RegExp(`\\b${name}\\s*\\(`, 'g');
  for (const match of code.matchAll(pattern)) {
    let open = match.index! + match[0].length - 1;
    let close = matchingParen(code, open);
    if (parametric && code[close + 1] === '(') {
      open = close + 1;
      close = matchingParen(code, open);
    }
    found.push(code.slice(open + 1, close));
  }
  return found;
}

function matchingParen(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '(') depth++;
    else if (code[i] === ')' && --depth === 0) return i;
  }
  return code.length;
}
