import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toYaml } from '../../monitoring/generator/monitoring-files';

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
    expect(toYaml({ a: 'yes', c: '', d: 'a: b', e: '#x', g: '12' })).toBe(
      ["a: 'yes'", "c: ''", "d: 'a: b'", "e: '#x'", "g: '12'", ''].join('\n'),
    );
  });

  it('writes multi-line text as a literal block, indented under its key', () => {
    expect(toYaml({ rules: [{ query: 'SELECT 1\nFROM t\n\nWHERE x' }] })).toBe(
      ['rules:', '  - query: |-', '      SELECT 1', '      FROM t', '', '      WHERE x', ''].join('\n'),
    );
  });

  it('keeps long lines whole', () => {
    const long = `${'word '.repeat(60)}end`;
    expect(toYaml({ description: long })).toBe(`description: ${long}\n`);
  });

  // What the hand-written emitter quoted or escaped by its own rules, the library writes its own
  // way; what matters is that a YAML 1.1 reader (Grafana's) gets the very same values back.
  it.each([
    ['durations and numbers as text', { b: '1m', f: '0s', g: '12', h: '1e3', i: '0x1F' }],
    ['YAML 1.1 booleans and nulls as text', { a: 'yes', b: 'No', c: 'off', d: '~', e: 'null', y: 'y' }],
    ['quotes, tabs and control characters', { a: "it's", b: 'tab\there', c: `it's "x"`, d: 'bell\u0007' }],
    ['multi-line text a plain literal block cannot keep', { a: ' lead\nx', b: 'trail \nx', c: 'end\n' }],
    [
      'indicators and comments',
      { a: '- x', b: '? y', c: '@z', d: 'a #b', e: '{x}', f: '[y]', g: '*a', h: '&b' },
    ],
  ])('reads back %s unchanged', (_, value) => {
    expect(parse(toYaml(value), { version: '1.1' })).toEqual(value);
  });
});
