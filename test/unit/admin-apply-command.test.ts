import { describe, expect, it } from 'vitest';
import { applyCommand, stepVersion, type ApplyContext } from '../../src/admin/apply-command';
import { RolloutConfigSchema, type RolloutConfig } from '../../src/config/config-schema';

const NOW = Date.UTC(2026, 10, 25, 12);
const context: ApplyContext = {
  now: NOW,
  newSalt: () => 'fresh-salt',
  origins: { stable: 'https://stable.example', canary: 'https://canary.example' },
};

function config(rollout: Record<string, unknown>, extra: Record<string, unknown> = {}): RolloutConfig {
  return RolloutConfigSchema.parse({
    version: 4,
    rollout: { salt: 'launch-1', stepStartedAt: '2026-11-01T00:00:00.000Z', ...rollout },
    flags: { templates: { enabled: true, percent: 50, seed: 'tpl', default: true } },
    ...extra,
  });
}

function ok(result: ReturnType<typeof applyCommand>): RolloutConfig {
  if (!result.ok) throw new Error(`expected success, got ${result.status} ${result.error}`);
  return result.config;
}

describe('applyCommand', () => {
  it('set-percent bumps the version by one, moves to ramping and stamps when the step started', () => {
    const next = ok(
      applyCommand(config({ percent: 0, state: 'idle' }), { type: 'set-percent', percent: 10 }, context),
    );
    expect(next.version).toBe(5);
    expect(next.rollout).toMatchObject({ percent: 10, state: 'ramping', salt: 'launch-1' });
    expect(next.rollout.stepStartedAt).toBe(new Date(NOW).toISOString());
  });

  it('keeps stepStartedAt when the percent does not change', () => {
    const next = ok(applyCommand(config({ percent: 10, state: 'ramping' }), { type: 'pause' }, context));
    expect(next.rollout).toMatchObject({
      state: 'paused',
      percent: 10,
      stepStartedAt: '2026-11-01T00:00:00.000Z',
    });
  });

  it('refuses a percent change while paused with 409 and leaves the config alone', () => {
    const current = config({ percent: 10, state: 'paused' });
    const result = applyCommand(current, { type: 'set-percent', percent: 50 }, context);
    expect(result).toMatchObject({ ok: false, status: 409, error: expect.stringContaining('resume first') });
    expect(current.rollout.percent).toBe(10);
  });

  it('promote sends everyone to the canary', () => {
    const next = ok(applyCommand(config({ percent: 50, state: 'ramping' }), { type: 'promote' }, context));
    expect(next.rollout).toMatchObject({ percent: 100, state: 'promoted' });
  });

  it('finalize makes the canary origin the stable one, at 0 % with a fresh salt', () => {
    const current = config(
      { percent: 100, state: 'promoted' },
      { origins: { stable: 'https://v1.example', canary: 'https://v2.example' } },
    );
    const next = ok(applyCommand(current, { type: 'finalize' }, context));
    expect(next.origins).toEqual({ stable: 'https://v2.example', canary: 'https://v2.example' });
    expect(next.rollout).toMatchObject({ percent: 0, state: 'finalized', salt: 'fresh-salt' });
  });

  it('finalize falls back to the vars when the config names no origins', () => {
    const next = ok(applyCommand(config({ percent: 100, state: 'promoted' }), { type: 'finalize' }, context));
    expect(next.origins).toEqual({ stable: 'https://canary.example', canary: 'https://canary.example' });
  });

  it('abort sends everyone back to stable; aborting an idle rollout is a 409', () => {
    const next = ok(applyCommand(config({ percent: 50, state: 'ramping' }), { type: 'abort' }, context));
    expect(next.rollout).toMatchObject({ percent: 0, state: 'aborted' });
    expect(applyCommand(config({ percent: 0, state: 'idle' }), { type: 'abort' }, context)).toMatchObject({
      ok: false,
      status: 409,
      error: expect.stringContaining('idle'),
    });
  });

  it('set-flag updates an existing flag and keeps its seed and default', () => {
    const next = ok(
      applyCommand(config({ percent: 0 }), { type: 'set-flag', name: 'templates', enabled: false }, context),
    );
    expect(next.flags.templates).toEqual({ enabled: false, percent: 50, seed: 'tpl', default: true });
  });

  it('set-flag refuses a name the config does not have, naming the known flags, unless create is set', () => {
    const refused = applyCommand(
      config({ percent: 0 }),
      { type: 'set-flag', name: 'templats', enabled: true },
      context,
    );
    expect(refused).toMatchObject({ ok: false, status: 400, error: 'unknown flag' });
    expect(!refused.ok && refused.issues?.[0]).toContain('known: templates');
  });

  it('set-flag with create adds a new flag at 100 % unless a percent is given', () => {
    const on = ok(
      applyCommand(
        config({ percent: 0 }),
        { type: 'set-flag', name: 'newThing', enabled: true, create: true },
        context,
      ),
    );
    expect(on.flags.newThing).toEqual({ enabled: true, percent: 100, default: false });
    const split = ok(
      applyCommand(
        config({ percent: 0 }),
        { type: 'set-flag', name: 'other', enabled: true, percent: 25, create: true },
        context,
      ),
    );
    expect(split.flags.other).toMatchObject({ percent: 25 });
  });

  it('set-flag with an invalid name is a 400 from the config schema', () => {
    const result = applyCommand(
      config({ percent: 0 }),
      { type: 'set-flag', name: '9lives', enabled: true, create: true },
      context,
    );
    expect(result).toMatchObject({ ok: false, status: 400 });
  });

  it('set-percent outside the schema (as the guard might send) is a 400, not a broken config', () => {
    for (const percent of [Number.NaN, -1, 100.5, 12.345]) {
      const result = applyCommand(
        config({ percent: 10, state: 'ramping' }),
        { type: 'set-percent', percent },
        context,
      );
      expect(result, String(percent)).toMatchObject({ ok: false, status: 400 });
    }
  });

  describe('replace-config', () => {
    const current = config({ percent: 10, state: 'paused' });
    const body = (rollout: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      rollout: { salt: 'launch-2', ...rollout },
      ...extra,
    });

    it('writes the body as the next version, keeping a state that still fits the percent', () => {
      const next = ok(
        applyCommand(current, { type: 'replace-config', config: body({ percent: 20 }) }, context),
      );
      expect(next.version).toBe(5);
      expect(next.rollout).toMatchObject({ percent: 20, state: 'paused', salt: 'launch-2' });
      expect(next.rollout.stepStartedAt).toBe(new Date(NOW).toISOString());
      expect(next.flags).toEqual({});
    });

    it('derives the state from the percent when the current one no longer fits', () => {
      const promoted = config({ percent: 100, state: 'promoted' });
      const next = ok(
        applyCommand(promoted, { type: 'replace-config', config: body({ percent: 30 }) }, context),
      );
      expect(next.rollout.state).toBe('ramping');
      const zero = ok(
        applyCommand(promoted, { type: 'replace-config', config: body({ percent: 0 }) }, context),
      );
      expect(zero.rollout.state).toBe('idle');
    });

    it('refuses a state that contradicts the percent with 400', () => {
      const result = applyCommand(
        current,
        { type: 'replace-config', config: body({ percent: 30, state: 'idle' }) },
        context,
      );
      expect(result).toMatchObject({
        ok: false,
        status: 400,
        issues: [expect.stringContaining('rollout.state')],
      });
    });

    it('refuses a stepStartedAt beyond 5 min ahead with 400 (it would stall the schedule), and takes one within', () => {
      const at = (ms: number) => new Date(NOW + ms).toISOString();
      for (const future of ['2099-01-01T00:00:00.000Z', at(5 * 60_000 + 1000)]) {
        const result = applyCommand(
          current,
          { type: 'replace-config', config: body({ percent: 10, stepStartedAt: future }) },
          context,
        );
        expect(result, future).toMatchObject({
          ok: false,
          status: 400,
          error: 'invalid config',
          issues: [
            expect.stringMatching(
              new RegExp(
                `^rollout\\.stepStartedAt: ${future.replace(/\./g, '\\.')} is in the future \\(now ${new Date(NOW).toISOString().replace(/\./g, '\\.')}, at most 5 min ahead allowed\\)`,
              ),
            ),
          ],
        });
      }
      // Same percent, so the given moment is kept as it is: a clock a minute ahead, or the past.
      const percent = current.rollout.percent;
      for (const fine of [at(60_000), at(-3_600_000)])
        expect(
          ok(
            applyCommand(
              current,
              { type: 'replace-config', config: body({ percent, stepStartedAt: fine }) },
              context,
            ),
          ).rollout.stepStartedAt,
        ).toBe(fine);
    });

    it('treats a version in the body like If-Match: 412 unless it is the current one', () => {
      expect(
        applyCommand(
          current,
          { type: 'replace-config', config: body({ percent: 10 }, { version: 3 }) },
          context,
        ),
      ).toMatchObject({ ok: false, status: 412 });
      expect(
        ok(
          applyCommand(
            current,
            { type: 'replace-config', config: body({ percent: 10 }, { version: 4 }) },
            context,
          ),
        ).version,
      ).toBe(5);
    });

    it('answers an invalid body with 400 and the issues', () => {
      const result = applyCommand(
        current,
        { type: 'replace-config', config: { rollout: { percent: 'ten' } } },
        context,
      );
      expect(result).toMatchObject({ ok: false, status: 400 });
      expect(result.ok ? [] : result.issues).toEqual(
        expect.arrayContaining([
          expect.stringContaining('rollout.percent'),
          expect.stringContaining('rollout.salt'),
        ]),
      );
    });
  });

  describe('undo', () => {
    it('restores the previous version exactly, as a new version', () => {
      const previous = config({ percent: 10, state: 'ramping', stepStartedAt: '2026-11-20T00:00:00.000Z' });
      const current = { ...config({ percent: 10, state: 'paused' }), version: 5 };
      const next = ok(
        applyCommand(current, { type: 'undo' }, { ...context, undoTarget: { ...previous, version: 4 } }),
      );
      expect(next).toEqual({ ...previous, version: 6 });
    });

    it('restarts the bake time when the restored percent differs from the current one', () => {
      const previous = config({ percent: 10, state: 'ramping' });
      const current = { ...config({ percent: 50, state: 'ramping' }), version: 5 };
      const next = ok(applyCommand(current, { type: 'undo' }, { ...context, undoTarget: previous }));
      const { stepStartedAt, ...rest } = next.rollout;
      const { stepStartedAt: _old, ...expected } = previous.rollout;
      expect(rest).toEqual(expected);
      expect(stepStartedAt).toBe(new Date(NOW).toISOString());
    });

    it('is a 409 when there is nothing to undo', () => {
      const result = applyCommand(config({ percent: 0 }), { type: 'undo' }, context);
      expect(result).toMatchObject({
        ok: false,
        status: 409,
        error: expect.stringContaining('nothing to undo'),
      });
    });
  });

  it('never mutates the current config', () => {
    const current = config({ percent: 10, state: 'ramping' });
    const frozen = JSON.stringify(current);
    applyCommand(current, { type: 'promote' }, context);
    applyCommand(current, { type: 'set-flag', name: 'templates', enabled: false }, context);
    applyCommand(
      current,
      { type: 'replace-config', config: { rollout: { percent: 1, salt: 'x' } } },
      context,
    );
    expect(JSON.stringify(current)).toBe(frozen);
  });
});

describe('stepVersion (the control plane’s pure step)', () => {
  const current = { config: config({ percent: 10, state: 'ramping' }), kill: null };

  it('gives a kill switch change a version of its own, with the config otherwise unchanged', () => {
    const step = stepVersion(
      current,
      { type: 'kill', request: { canary: true, flags: ['templates'] } },
      context,
    );
    expect(step).toEqual({
      ok: true,
      changed: true,
      config: { ...current.config, version: 5 },
      kill: 'canary flag:templates',
    });
  });

  it('says changed: false for a write that gives visitors what they get now', () => {
    expect(stepVersion(current, { type: 'set-percent', percent: 10 }, context)).toMatchObject({
      changed: false,
    });
    expect(
      stepVersion(current, { type: 'set-flag', name: 'templates', enabled: true, percent: 50 }, context),
    ).toMatchObject({ changed: false });
    expect(stepVersion(current, { type: 'unkill' }, context)).toMatchObject({ changed: false });
    expect(
      stepVersion({ ...current, kill: 'canary' }, { type: 'kill', request: { canary: true } }, context),
    ).toMatchObject({
      changed: false,
    });
    expect(stepVersion(current, { type: 'set-percent', percent: 20 }, context)).toMatchObject({
      changed: true,
    });
  });

  it('refuses a kill of an unknown flag, and a kill text longer than the splitter reads whole', () => {
    expect(stepVersion(current, { type: 'kill', request: { flags: ['nope'] } }, context)).toMatchObject({
      ok: false,
      status: 400,
      error: 'unknown flags',
    });
    // A config valid under the 4 KiB x-feature-flags limit always has a kill text that fits (a
    // token `flag:NAME ` is shorter than its header entry `"NAME":false,`), so the limit is
    // defence in depth, shown on a config that skipped validation.
    const flags = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [
        `f${i}_${'x'.repeat(30)}`,
        { enabled: true, percent: 100, default: false },
      ]),
    );
    const many = { config: { ...config({ percent: 0 }), flags }, kill: null };
    const step = stepVersion(many, { type: 'kill', request: { flags: Object.keys(flags) } }, context);
    expect(step).toMatchObject({ ok: false, status: 400, error: 'kill switch too long' });
  });

  it('brings back the kill switch of the version undo returns to', () => {
    const killed = { config: { ...current.config, version: 5 }, kill: 'canary' };
    const step = stepVersion(
      killed,
      { type: 'undo' },
      { ...context, undoTarget: current.config, undoKill: null },
    );
    expect(step).toMatchObject({ ok: true, changed: true, kill: null, config: { version: 6 } });
  });
});
