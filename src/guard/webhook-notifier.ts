import type { Logger } from '../ports/logger';
import type { GuardMessage } from './guard-message';

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
 *
 * @example
 * const notifier = createWebhookNotifier({ url: env.GUARD_WEBHOOK_URL, fetch, logger });
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
