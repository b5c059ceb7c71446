// Just enough SQL to answer the guard's own queries (src/metrics/queries.ts) over the data points
// the local collector holds, so that `npm start` can show the guard acting without Cloudflare.
// It is not ClickHouse: it parses one SELECT with aliases, FROM, WHERE, GROUP BY, ORDER BY and
// FORMAT JSON, and the handful of functions those queries use (SUM, if, quantileExactWeighted,
// toStartOfMinute, toUInt32, toDateTime, NOW, INTERVAL … MINUTE). Anything else is refused with
// an error naming it, so a query the stand-in cannot answer fails loudly instead of lying.
// Time values are epoch seconds, like ClickHouse's DateTime.

const KEYWORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'GROUP',
  'ORDER',
  'BY',
  'FORMAT',
  'AS',
  'AND',
  'OR',
  'NOT',
  'IN',
  'INTERVAL',
  'ASC',
  'DESC',
]);
const AGGREGATES = new Set(['sum', 'count', 'min', 'max', 'quantileexactweighted']);
// Functions it knows; any other name is refused while parsing, even over no rows.
const SCALARS = new Set(['if', 'now', 'todatetime', 'tostartofminute', 'touint32']);
const UNIT_SECONDS = { SECOND: 1, MINUTE: 60, HOUR: 3600, DAY: 86_400 };

/** A failure to parse or evaluate, answered as the SQL API's 422. */
export class SqlError extends Error {}

function tokenize(sql) {
  const tokens = [];
  const pattern =
    /\s+|(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|'((?:[^'\\]|\\.)*)'|([A-Za-z_][A-Za-z0-9_]*)|(!=|<>|>=|<=|[(),*/+\-=<>])/y;
  let at = 0;
  while (at < sql.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(sql);
    if (!match)
      throw new SqlError(`unexpected character at ${at}: ${JSON.stringify(sql.slice(at, at + 20))}`);
    at = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: 'string', value: match[2].replace(/\\(.)/g, '$1') });
    else if (match[3] !== undefined) {
      const upper = match[3].toUpperCase();
      tokens.push(
        KEYWORDS.has(upper) ? { kind: 'keyword', value: upper } : { kind: 'name', value: match[3] },
      );
    } else if (match[4] !== undefined) tokens.push({ kind: 'op', value: match[4] });
  }
  return tokens;
}

/** Parses one SELECT into { select: [{ expr, alias }], from, where, groupBy, orderBy }. */
export function parseQuery(sql) {
  const tokens = tokenize(sql);
  let i = 0;
  const peek = () => tokens[i];
  const isKeyword = (word) => peek()?.kind === 'keyword' && peek().value === word;
  const isOp = (op) => peek()?.kind === 'op' && peek().value === op;
  const expectKeyword = (word) => {
    if (!isKeyword(word)) throw new SqlError(`expected ${word}, got ${describe(peek())}`);
    i++;
  };
  const expectOp = (op) => {
    if (!isOp(op)) throw new SqlError(`expected "${op}", got ${describe(peek())}`);
    i++;
  };
  const name = () => {
    const token = peek();
    if (token?.kind !== 'name') throw new SqlError(`expected a name, got ${describe(token)}`);
    i++;
    return token.value;
  };

  const expr = () => or();
  const or = () => binaryChain(and, () => (isKeyword('OR') ? 'OR' : undefined));
  const and = () => binaryChain(not, () => (isKeyword('AND') ? 'AND' : undefined));
  const not = () => {
    if (isKeyword('NOT')) {
      i++;
      return { type: 'not', arg: not() };
    }
    return comparison();
  };
  const comparison = () => {
    const left = additive();
    for (const op of ['=', '!=', '<>', '>=', '<=', '>', '<'])
      if (isOp(op)) {
        i++;
        return { type: 'binary', op: op === '<>' ? '!=' : op, left, right: additive() };
      }
    let negated = false;
    if (isKeyword('NOT') && tokens[i + 1]?.kind === 'keyword' && tokens[i + 1].value === 'IN') {
      negated = true;
      i++;
    }
    if (isKeyword('IN')) {
      i++;
      expectOp('(');
      const list = [expr()];
      while (isOp(',')) {
        i++;
        list.push(expr());
      }
      expectOp(')');
      return { type: 'in', negated, left, list };
    }
    return left;
  };
  const additive = () =>
    binaryChain(multiplicative, () => (isOp('+') || isOp('-') ? peek().value : undefined));
  const multiplicative = () =>
    binaryChain(primary, () => (isOp('*') || isOp('/') ? peek().value : undefined));
  function binaryChain(next, operator) {
    let left = next();
    for (let op = operator(); op; op = operator()) {
      i++;
      left = { type: 'binary', op, left, right: next() };
    }
    return left;
  }
  const args = () => {
    expectOp('(');
    const list = [];
    if (!isOp(')')) {
      list.push(expr());
      while (isOp(',')) {
        i++;
        list.push(expr());
      }
    }
    expectOp(')');
    return list;
  };
  const primary = () => {
    const token = peek();
    if (token?.kind === 'number' || token?.kind === 'string') {
      i++;
      return { type: 'literal', value: token.value };
    }
    if (isOp('-')) {
      i++;
      return { type: 'binary', op: '-', left: { type: 'literal', value: 0 }, right: primary() };
    }
    if (isOp('(')) {
      i++;
      const inner = expr();
      expectOp(')');
      return inner;
    }
    if (isKeyword('INTERVAL')) {
      i++;
      const amount = primary();
      const unit = name().toUpperCase();
      if (!(unit in UNIT_SECONDS)) throw new SqlError(`unsupported INTERVAL unit ${unit}`);
      return { type: 'binary', op: '*', left: amount, right: { type: 'literal', value: UNIT_SECONDS[unit] } };
    }
    const id = name();
    if (!isOp('(')) return { type: 'column', name: id };
    const fn = id.toLowerCase();
    if (!SCALARS.has(fn) && !AGGREGATES.has(fn)) throw new SqlError(`unsupported function ${fn}`);
    const first = args();
    // A parametric aggregate: quantileExactWeighted(0.95)(value, weight).
    if (isOp('(')) return { type: 'call', name: fn, params: first, args: args() };
    return { type: 'call', name: fn, params: [], args: first };
  };

  expectKeyword('SELECT');
  const select = [];
  do {
    if (select.length > 0) i++;
    const item = expr();
    let alias;
    if (isKeyword('AS')) {
      i++;
      alias = name();
    }
    select.push({
      expr: item,
      alias: alias ?? (item.type === 'column' ? item.name : `c${select.length + 1}`),
    });
  } while (isOp(','));
  expectKeyword('FROM');
  const from = name();
  let where;
  if (isKeyword('WHERE')) {
    i++;
    where = expr();
  }
  const nameList = () => {
    const list = [name()];
    while (isOp(',')) {
      i++;
      list.push(name());
    }
    return list;
  };
  let groupBy = [];
  if (isKeyword('GROUP')) {
    i++;
    expectKeyword('BY');
    groupBy = nameList();
  }
  let orderBy = [];
  if (isKeyword('ORDER')) {
    i++;
    expectKeyword('BY');
    orderBy = nameList();
    if (isKeyword('ASC')) i++;
  }
  if (isKeyword('FORMAT')) {
    i++;
    if (name() !== 'JSON') throw new SqlError('only FORMAT JSON is supported');
  }
  if (i < tokens.length) throw new SqlError(`unexpected ${describe(peek())}`);
  return { select, from, where, groupBy, orderBy };
}

function describe(token) {
  return token ? `${token.kind} ${JSON.stringify(token.value)}` : 'the end of the query';
}

function hasAggregate(node) {
  if (!node || typeof node !== 'object') return false;
  if (node.type === 'call' && AGGREGATES.has(node.name)) return true;
  return (
    ['left', 'right', 'arg'].some((key) => hasAggregate(node[key])) ||
    (node.args ?? []).some(hasAggregate) ||
    (node.list ?? []).some(hasAggregate)
  );
}

/**
 * Evaluates a row-level expression. `row` maps column names to values; `timestamp` is epoch
 * seconds and `_sample_interval` the sampling weight (always 1 here: nothing is sampled).
 */
function evaluate(node, row, nowSeconds) {
  switch (node.type) {
    case 'literal':
      return node.value;
    case 'column':
      if (!(node.name in row)) throw new SqlError(`unknown column ${node.name}`);
      return row[node.name];
    case 'not':
      return !truthy(evaluate(node.arg, row, nowSeconds));
    case 'in': {
      const value = evaluate(node.left, row, nowSeconds);
      const found = node.list.some((item) => evaluate(item, row, nowSeconds) === value);
      return node.negated ? !found : found;
    }
    case 'binary': {
      if (node.op === 'AND')
        return truthy(evaluate(node.left, row, nowSeconds)) && truthy(evaluate(node.right, row, nowSeconds));
      if (node.op === 'OR')
        return truthy(evaluate(node.left, row, nowSeconds)) || truthy(evaluate(node.right, row, nowSeconds));
      const left = evaluate(node.left, row, nowSeconds);
      const right = evaluate(node.right, row, nowSeconds);
      switch (node.op) {
        case '=':
          return left === right;
        case '!=':
          return left !== right;
        case '>':
          return left > right;
        case '<':
          return left < right;
        case '>=':
          return left >= right;
        case '<=':
          return left <= right;
        case '+':
          return Number(left) + Number(right);
        case '-':
          return Number(left) - Number(right);
        case '*':
          return Number(left) * Number(right);
        case '/':
          return Number(left) / Number(right);
      }
      throw new SqlError(`unsupported operator ${node.op}`);
    }
    case 'call': {
      const args = node.args.map((arg) => evaluate(arg, row, nowSeconds));
      switch (node.name) {
        case 'if':
          return truthy(args[0]) ? args[1] : args[2];
        case 'now':
          return nowSeconds;
        case 'todatetime':
          return Math.floor(Number(args[0]));
        case 'tostartofminute':
          return Math.floor(Number(args[0]) / 60) * 60;
        case 'touint32':
          return Math.max(0, Math.floor(Number(args[0])));
      }
      throw new SqlError(`unsupported function ${node.name}`);
    }
  }
  throw new SqlError(`cannot evaluate ${node.type}`);
}

// ClickHouse's if() takes a UInt8 condition; comparisons give booleans here.
const truthy = (value) => value === true || (typeof value === 'number' && value !== 0);

/** Evaluates an expression over one group of rows: aggregates fold the group, the rest read its first row. */
function evaluateOverGroup(node, rows, nowSeconds) {
  if (node.type === 'call' && AGGREGATES.has(node.name)) {
    if (node.name === 'count') return rows.length;
    if (node.name === 'sum')
      return rows.reduce((total, row) => total + Number(evaluate(node.args[0], row, nowSeconds)), 0);
    if (node.name === 'min' || node.name === 'max') {
      const values = rows.map((row) => evaluate(node.args[0], row, nowSeconds));
      return values.length === 0
        ? null
        : values.reduce((a, b) => ((node.name === 'min' ? b < a : b > a) ? b : a));
    }
    return quantileExactWeighted(
      Number(evaluate(node.params[0], {}, nowSeconds)),
      rows.map((row) => [
        Number(evaluate(node.args[0], row, nowSeconds)),
        Number(evaluate(node.args[1], row, nowSeconds)),
      ]),
    );
  }
  if (!hasAggregate(node)) return rows.length === 0 ? null : evaluate(node, rows[0], nowSeconds);
  if (node.type === 'binary') {
    const left = evaluateOverGroup(node.left, rows, nowSeconds);
    const right = evaluateOverGroup(node.right, rows, nowSeconds);
    return evaluate(
      {
        type: 'binary',
        op: node.op,
        left: { type: 'literal', value: left },
        right: { type: 'literal', value: right },
      },
      {},
      nowSeconds,
    );
  }
  if (node.type === 'call')
    return evaluate(
      {
        ...node,
        args: node.args.map((arg) => ({ type: 'literal', value: evaluateOverGroup(arg, rows, nowSeconds) })),
      },
      {},
      nowSeconds,
    );
  throw new SqlError(`cannot aggregate ${node.type}`);
}

/**
 * ClickHouse's quantileExactWeighted: the smallest value whose cumulative weight reaches
 * level × total weight. No weight at all gives NaN, which FORMAT JSON prints as null.
 */
export function quantileExactWeighted(level, pairs) {
  const weighted = pairs.filter(([, weight]) => weight > 0).sort((a, b) => a[0] - b[0]);
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  if (total === 0) return null;
  const threshold = Math.ceil(total * level);
  let seen = 0;
  for (const [value, weight] of weighted) {
    seen += weight;
    if (seen >= threshold) return value;
  }
  return weighted[weighted.length - 1][0];
}

/**
 * Runs a query over rows and answers in the SQL API's FORMAT JSON shape
 * ({ meta, data, rows }). Grouping follows ClickHouse: an aggregate query without GROUP BY gives
 * one row, and GROUP BY names select aliases.
 *
 * @param {string} sql
 * @param {Array<Record<string, unknown>>} rows
 * @param {{ dataset: string, nowSeconds: number }} options
 */
export function runQuery(sql, rows, { dataset, nowSeconds }) {
  const query = parseQuery(sql);
  if (query.from !== dataset)
    throw new SqlError(`unknown table ${query.from} (this collector holds ${dataset})`);
  const matching = query.where ? rows.filter((row) => truthy(evaluate(query.where, row, nowSeconds))) : rows;
  const byAlias = new Map(query.select.map((item) => [item.alias, item.expr]));
  const aggregated = query.groupBy.length > 0 || query.select.some((item) => hasAggregate(item.expr));
  let data;
  if (!aggregated) {
    data = matching.map((row) =>
      Object.fromEntries(query.select.map((item) => [item.alias, evaluate(item.expr, row, nowSeconds)])),
    );
  } else {
    const groups = new Map();
    const keyExprs = query.groupBy.map((alias) => byAlias.get(alias) ?? { type: 'column', name: alias });
    for (const row of matching) {
      const key = JSON.stringify(keyExprs.map((node) => evaluate(node, row, nowSeconds)));
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(row);
    }
    if (query.groupBy.length === 0 && groups.size === 0) groups.set('[]', []);
    data = [...groups.values()].map((group) =>
      Object.fromEntries(
        query.select.map((item) => [item.alias, evaluateOverGroup(item.expr, group, nowSeconds)]),
      ),
    );
  }
  for (const alias of [...query.orderBy].reverse())
    data.sort((a, b) => (a[alias] < b[alias] ? -1 : a[alias] > b[alias] ? 1 : 0));
  const meta = query.select.map((item) => ({
    name: item.alias,
    type: data.some((row) => typeof row[item.alias] === 'string') ? 'String' : 'Float64',
  }));
  return { meta, data, rows: data.length };
}
