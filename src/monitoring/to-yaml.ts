/** Values the emitter can write: what JSON can hold. */
export type YamlValue =
  string | number | boolean | null | readonly YamlValue[] | { readonly [key: string]: YamlValue };

const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

/**
 * Writes a value as block-style YAML, deterministically (keys in insertion order), for the
 * Grafana provisioning files. Multi-line strings (SQL) become `|-` literal blocks so the files
 * read like the queries they hold; other strings are plain when unambiguous, else quoted.
 *
 * @example
 * toYaml({ apiVersion: 1, groups: [] }); // 'apiVersion: 1\ngroups: []\n'
 */
export function toYaml(value: YamlValue): string {
  return `${lines(value, 0).join('\n')}\n`;
}

function lines(value: YamlValue, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${pad}[]`];
    return value.flatMap((item: YamlValue) => {
      if (isNested(item)) {
        const [first, ...rest] = lines(item, indent + 2);
        return [`${pad}- ${first!.slice(indent + 2)}`, ...rest];
      }
      return [`${pad}- ${scalar(item, indent + 2)}`];
    });
  }
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return [`${pad}{}`];
    return entries.flatMap(([key, item]) =>
      isNested(item)
        ? [`${pad}${yamlKey(key)}:`, ...lines(item, indent + 2)]
        : [`${pad}${yamlKey(key)}: ${scalar(item, indent + 2)}`],
    );
  }
  return [`${pad}${scalar(value, indent)}`];
}

function isObject(value: YamlValue): value is { readonly [key: string]: YamlValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNested(value: YamlValue): boolean {
  return (Array.isArray(value) && value.length > 0) || (isObject(value) && Object.keys(value).length > 0);
}

function yamlKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) && !RESERVED.test(key) ? key : quoted(key);
}

function scalar(value: YamlValue, indent: number): string {
  if (value === null) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} as YAML`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return Array.isArray(value) ? '[]' : '{}';
  if (value.includes('\n') && isLiteralBlockSafe(value)) {
    const pad = ' '.repeat(indent);
    return `|-\n${value
      .split('\n')
      .map((line) => (line === '' ? '' : pad + line))
      .join('\n')}`;
  }
  if (/^[A-Za-z_][A-Za-z0-9_./-]*$/.test(value) && !RESERVED.test(value)) return value;
  return quoted(value);
}

// Single quotes unless the text holds more of them than double quotes or needs an escape (as
// Prettier chooses with `singleQuote`), so `prettier --check` accepts the generated files.
function quoted(value: string): string {
  const needsEscape = /[\u0000-\u001f\u007f\u2028\u2029]/.test(value);
  const singles = value.split("'").length - 1;
  const doubles = value.split('"').length - 1;
  if (needsEscape || singles > doubles) return JSON.stringify(value);
  return `'${value.replace(/'/g, "''")}'`;
}

// A literal block keeps text verbatim, except what YAML cannot express in one: a leading space
// on the first line (it would need an indentation indicator), trailing spaces, tabs, control
// characters, or a trailing newline (`|-` strips it).
function isLiteralBlockSafe(text: string): boolean {
  return !/^ /.test(text) && !/[ \t]\n|[ \t]$|\n$|[\u0000-\u0009\u000b-\u001f\u007f]/.test(text);
}
