import type { Logger } from '../ports';
import type { BreachReason, JudgedNumbers } from './analyze-canary';
import { formatVerdictTable, type MetricRow } from './verdict-table';

/** A Slack-compatible webhook body (also accepted by Mattermost, Discord's /slack endpoint…). */
export interface GuardMessage {
  text: string;
  blocks?: unknown[];
}

/** What the message is about; `table` is the verdict table it was decided on. */
export type GuardEvent = (
  | { type: 'aborted'; percent: number; version: number; reasons: BreachReason[]; numbers: JudgedNumbers }
  | { type: 'abort-failed'; percent: number; error: string; reasons: BreachReason[]; numbers: JudgedNumbers }
  | { type: 'advanced'; from: number; to: number; version: number; numbers: JudgedNumbers }
  | { type: 'paused'; percent: number; version: number; why: string; numbers: JudgedNumbers }
  | { type: 'pause-failed'; percent: number; error: string; why: string; numbers: JudgedNumbers }
  | { type: 'srm'; percent: number; why: string; numbers: JudgedNumbers }
) & { table?: readonly MetricRow[] };

/**
 * Builds the webhook message for a guard event: a one-line `text` (what notifications show) and
 * blocks with the reasons, the verdict table and the numbers judged.
 *
 * @example
 * await notifier.notify(guardMessage({ type: 'advanced', from: 10, to: 50, version: 7, numbers }));
 */
export function guardMessage(event: GuardEvent, environment = ''): GuardMessage {
  const where = environment ? ` (${environment})` : '';
  const headline = headlineOf(event, where);
  const details =
    event.type === 'advanced'
      ? [`healthy over ${event.numbers.window}`]
      : 'reasons' in event
        ? event.reasons.map((reason) => `• ${reason.message}`)
        : [`• ${event.why}`];
  const c = event.numbers.canary;
  const summary =
    `canary: ${Math.round(c.requests)} req, ${c.errorRatePercent.toFixed(2)} % errors, p95 ${Math.round(c.p95Ms)} ms` +
    ` | stable: ${Math.round(event.numbers.stable.requests)} req, ${event.numbers.stable.errorRatePercent.toFixed(2)} % errors`;
  const table = event.table?.length
    ? [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: escapeMrkdwn(`\`\`\`\n${formatVerdictTable(event.table).join('\n')}\n\`\`\``),
          },
        },
      ]
    : [];
  return {
    text: escapeMrkdwn(headline),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(`${headline}\n${details.join('\n')}`) } },
      ...table,
      { type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(summary) }] },
    ],
  };
}

function headlineOf(event: GuardEvent, where: string): string {
  switch (event.type) {
    case 'aborted':
      return `edge-rollout guard aborted the canary at ${event.percent} %${where}: everyone is back on stable (config v${event.version}).`;
    case 'abort-failed':
      return `edge-rollout guard saw a breach at ${event.percent} %${where} but could not abort: ${event.error}. It retries every minute; abort by hand if this persists.`;
    case 'advanced':
      return `edge-rollout guard advanced the canary ${event.from} % → ${event.to} %${where} (config v${event.version}).`;
    case 'paused':
      return `edge-rollout guard paused the rollout at ${event.percent} %${where} (config v${event.version}): the canary keeps serving and stays guarded; resume when resolved.`;
    case 'pause-failed':
      return `edge-rollout guard wanted to pause the rollout at ${event.percent} %${where} but could not: ${event.error}.`;
    case 'srm':
      return `edge-rollout guard sees a sample ratio mismatch at ${event.percent} %${where}: the split does not match its percent, so its numbers cannot be trusted.`;
  }
}

// Slack's mrkdwn treats &, < and > as control characters; reasons contain `>` and `<`.
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Where guard events are announced. Implementations never throw. */
export interface Notifier {
  notify(message: GuardMessage): Promise<void>;
}

/** A notifier for when no webhook is configured. */
export const nullNotifier: Notifier = { notify: async () => {} };

/** Options of {@link createWebhookNotifier}. */
export interface WebhookNotifierOptions {
  /** A secret (it embeds a token): never logged. */
  url: string;
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  logger: Logger;
  timeoutMs?: number;
}

/**
 * Posts guard messages as JSON to a Slack-compatible incoming webhook. A failing webhook is
 * logged and otherwise ignored: the abort has already happened, and the notice is a courtesy.
 */
export function createWebhookNotifier(options: WebhookNotifierOptions): Notifier {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    async notify(message) {
      try {
        const response = await options.fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(timeoutMs),
        });
        // Drain the body so the connection is released.
        await response.arrayBuffer();
        if (!response.ok)
          options.logger.warn('guard webhook refused the message', { status: response.status });
      } catch (error) {
        const text = String((error as Error)?.message ?? error);
        options.logger.warn('guard webhook failed', { error: text.split(options.url).join('<webhook url>') });
      }
    },
  };
}
