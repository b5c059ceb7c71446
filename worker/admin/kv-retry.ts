/** Waits between attempts of a rate-limited KV write: about KV's 1 write/s/key, then some. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000];

/**
 * How a retry waits. The admin routes build their command context from the app's deps, which
 * carry no delays, so a test that goes through HTTP replaces `sleep` (`vi.spyOn`) to record the
 * waits instead of spending them.
 */
export const retryWait = {
  sleep: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A KV write that failed for good; `rateLimited` when KV kept answering 429. */
export class KvWriteError extends Error {
  constructor(
    readonly key: string,
    readonly rateLimited: boolean,
    options: { cause: unknown },
  ) {
    super(`KV write of "${key}" failed${rateLimited ? ': rate limited (429)' : ''}`, options);
    this.name = 'KvWriteError';
  }
}

/**
 * Whether a KV error is its rate limit (at most one write per second to one key). The binding
 * reports it as an Error whose message carries the 429.
 *
 * @example
 * isKvRateLimit(new Error('KV PUT failed: 429 Too Many Requests')); // true
 */
export function isKvRateLimit(error: unknown): boolean {
  return /\b429\b|too many requests/i.test(String((error as Error)?.message ?? error));
}

/**
 * Runs one KV write, retrying a rate-limit answer after each delay in turn. Any other failure,
 * or a rate limit outlasting the delays, throws a {@link KvWriteError}.
 *
 * @example
 * await writeWithRetry('config', () => kv.put('config', text));
 */
export async function writeWithRetry(
  key: string,
  write: () => Promise<unknown>,
  delaysMs: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      const rateLimited = isKvRateLimit(error);
      if (!rateLimited || attempt >= delaysMs.length)
        throw new KvWriteError(key, rateLimited, { cause: error });
      await retryWait.sleep(delaysMs[attempt]!);
    }
  }
}
