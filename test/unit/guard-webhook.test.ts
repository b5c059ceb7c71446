import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCanary } from '../../src/guard/analyze-canary';
import { createWebhookNotifier, guardMessage } from '../../src/guard/guard-notifier';
import { resolveThresholds } from '../../src/guard/guard-settings';
import { newAccountId, unsampled, webhookReceiver } from '../support/fake-sql-api/control';
import { startWebhookReceiver } from '../support/fake-sql-api/webhook-receiver';

const breach = analyzeCanary(
  {
    canary: unsampled({ requests: 800, errors: 40, p95Ms: 2500 }),
    stable: unsampled({ requests: 7200, errors: 7 }),
  },
  resolveThresholds(undefined),
  'last 5 min',
);
if (breach.status !== 'breach') throw new Error('fixture must breach');

function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let hooks: ReturnType<typeof webhookReceiver>;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  hooks = webhookReceiver(`http://127.0.0.1:${receiver.port}`);
});
afterAll(() => receiver.close());

describe('guardMessage', () => {
  it('says what happened in text and lists every reason and the numbers in blocks, mrkdwn-escaped', () => {
    const message = guardMessage(
      { type: 'aborted', percent: 10, version: 8, reasons: breach.reasons, numbers: breach.numbers },
      'production',
    );
    expect(message.text).toBe(
      'edge-rollout guard aborted the canary at 10 % (production): everyone is back on stable (config v8).',
    );
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('• canary error rate 5.00 % &gt; 1.00 % (max of 1 % and stable + 0.5 points)');
    expect(blocks).toContain('• canary p95 2500 ms &gt; 2000 ms');
    expect(blocks).toContain('canary: 800 req, 5.00 % errors, p95 2500 ms | stable: 7200 req, 0.10 % errors');
    expect(blocks).not.toMatch(/[<>]/);
  });
});

describe('webhook notifier', () => {
  it('posts the message as JSON to the webhook', async () => {
    const id = newAccountId();
    const notifier = createWebhookNotifier({ url: hooks.url(id), fetch, logger: recordingLogger().logger });
    await notifier.notify({ text: 'hello', blocks: [{ type: 'divider' }] });
    expect(await hooks.calls(id)).toEqual([{ text: 'hello', blocks: [{ type: 'divider' }] }]);
  });

  it('logs a refused message with its status and goes on', async () => {
    const id = newAccountId();
    await hooks.answerWith(id, 500);
    const { lines, logger } = recordingLogger();
    await createWebhookNotifier({ url: hooks.url(id), fetch, logger }).notify({ text: 'x' });
    expect(lines).toEqual([
      { level: 'warn', message: 'guard webhook refused the message', fields: { status: 500 } },
    ]);
  });

  it('logs an unreachable webhook without ever writing its secret URL', async () => {
    const url = 'http://127.0.0.1:1/services/T000/B000/secret-token';
    const { lines, logger } = recordingLogger();
    const failingFetch = async () => {
      throw new Error(`connect ECONNREFUSED for ${url}`);
    };
    await createWebhookNotifier({ url, fetch: failingFetch, logger }).notify({ text: 'x' });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.message).toBe('guard webhook failed');
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });
});
