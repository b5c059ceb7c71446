import { describe, expect, it } from 'vitest';
import {
  readCookie,
  visitorCookie,
  isValidIdentityValue,
  isValidVisitorId,
  newVisitorId,
} from '../../src/split/decide-visitor';

describe('visitor identity', () => {
  it.each([
    ['', false],
    ['short', false],
    ['a'.repeat(7), false],
    ['a'.repeat(8), true],
    ['a'.repeat(65), false],
    ['has space1', false],
    ['semi;colon', false],
    ['<script>x', false],
    ['ünïcode-id', false],
    ['valid_id-123', true],
    ['a'.repeat(64), true],
  ])('accepts %j as a visitor id: %s', (value, valid) => {
    expect(isValidVisitorId(value)).toBe(valid);
  });

  it('issues 22-char random ids that are valid and distinct', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newVisitorId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isValidVisitorId(id) && id.length === 22).toBe(true);
  });

  it('reads the first matching cookie and ignores lookalikes', () => {
    expect(readCookie('xrollout_id=bad; rollout_id=good1234; rollout_id=second12', 'rollout_id')).toBe(
      'good1234',
    );
    expect(readCookie('rollout_id', 'rollout_id')).toBeUndefined();
    expect(readCookie(null, 'rollout_id')).toBeUndefined();
    expect(isValidVisitorId(readCookie(`rollout_id=${'a'.repeat(20_000)}`, 'rollout_id'))).toBe(false);
  });

  it('finds the cookie in a header of any size, after any number of other cookies', () => {
    const others = Array.from({ length: 2000 }, (_, i) => `c${i}=${'v'.repeat(30)}`).join('; ');
    expect(others.length).toBeGreaterThan(64 * 1024);
    expect(readCookie(`${others}; rollout_id=good1234`, 'rollout_id')).toBe('good1234');
    expect(readCookie(`${others}; x=1`, 'rollout_id')).toBeUndefined();
  });

  it('writes the cookie with the contracted attributes', () => {
    expect(visitorCookie('rollout_id', 'abcdefgh', 2_592_000)).toBe(
      'rollout_id=abcdefgh; Path=/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax',
    );
  });

  it('accepts identity header values of visible ASCII only', () => {
    expect(isValidIdentityValue('user:42@example.com')).toBe(true);
    expect(isValidIdentityValue('with space')).toBe(false);
    expect(isValidIdentityValue('x'.repeat(257))).toBe(false);
    expect(isValidIdentityValue(null)).toBe(false);
  });
});
