import { describe, expect, it } from 'vitest';
import { toYaml } from '../../src/monitoring/to-yaml';

describe('toYaml', () => {
  it('writes nested maps and lists in block style, keys in order, quoting keys YAML 1.1 reads as booleans', () => {
    const lines = [
      'apiVersion: 1',
      'groups:',
      '  - name: g',
      '    rules: []',
      '    labels: {}',
      "'on': true",
      '',
    ];
    expect(toYaml({ apiVersion: 1, groups: [{ name: 'g', rules: [], labels: {} }], on: true })).toBe(
      lines.join('\n'),
    );
  });

  it('quotes strings YAML would read as something else', () => {
    expect(toYaml({ a: 'yes', b: '1m', c: '', d: 'a: b', e: '#x', f: '0s', g: '12' })).toBe(
      ["a: 'yes'", "b: '1m'", "c: ''", "d: 'a: b'", "e: '#x'", "f: '0s'", "g: '12'", ''].join('\n'),
    );
  });

  it('escapes quotes and control characters', () => {
    expect(toYaml({ a: "it's", b: 'tab\there', c: `it's "x"` })).toBe(
      ['a: "it\'s"', 'b: "tab\\there"', `c: 'it''s "x"'`, ''].join('\n'),
    );
  });

  it('writes multi-line text as a literal block, indented under its key', () => {
    expect(toYaml({ rules: [{ query: 'SELECT 1\nFROM t\n\nWHERE x' }] })).toBe(
      ['rules:', '  - query: |-', '      SELECT 1', '      FROM t', '', '      WHERE x', ''].join('\n'),
    );
  });

  it('falls back to a quoted scalar for multi-line text a literal block cannot keep', () => {
    expect(toYaml({ a: ' lead\nx', b: 'trail \nx', c: 'end\n' })).toBe(
      ['a: " lead\\nx"', 'b: "trail \\nx"', 'c: "end\\n"', ''].join('\n'),
    );
  });
});
