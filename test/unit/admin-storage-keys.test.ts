import { describe, expect, it } from 'vitest';
import { auditKey, historyKey, randomText } from '../../src/admin/history-and-audit';

describe('KV keys of the admin API', () => {
  it('pads history versions to 10 digits so keys list in version order', () => {
    expect(historyKey(7)).toBe('history:0000000007');
    expect(historyKey(1234567890)).toBe('history:1234567890');
    expect(historyKey(9) < historyKey(10)).toBe(true);
  });

  it('gives newer audit entries smaller keys, so a plain KV list returns newest first', () => {
    const times = [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 1, Date.UTC(2030, 5, 1), 1_000];
    const keys = times.map((t) => auditKey(t, 'abcdef'));
    for (const key of keys) expect(key).toMatch(/^audit:\d{13}:abcdef$/);
    const sorted = [...keys].sort();
    expect(sorted).toEqual([keys[2], keys[1], keys[0], keys[3]]);
  });

  it('draws random suffixes from [a-z0-9] with the requested length', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const text = randomText(6);
      expect(text).toMatch(/^[a-z0-9]{6}$/);
      seen.add(text);
    }
    expect(seen.size).toBe(200);
  });
});
