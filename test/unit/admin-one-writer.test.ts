import { describe, expect, it } from 'vitest';
import { oneWriterAtATime } from '../../worker/admin/one-writer-at-a-time';

describe('oneWriterAtATime', () => {
  it('runs writes to one namespace one after another', async () => {
    const ns = {};
    const order: string[] = [];
    const slow = oneWriterAtATime(ns, async () => {
      await new Promise((r) => setTimeout(r, 30));
      order.push('first');
    });
    const fast = oneWriterAtATime(ns, async () => {
      order.push('second');
    });
    await Promise.all([slow, fast]);
    expect(order).toEqual(['first', 'second']);
  });

  it('stops waiting for a write that never settles, so later writes still run', async () => {
    const ns = {};
    void oneWriterAtATime(ns, () => new Promise<void>(() => {}), 50);
    const started = Date.now();
    await expect(oneWriterAtATime(ns, async () => 'ran', 50)).resolves.toBe('ran');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
