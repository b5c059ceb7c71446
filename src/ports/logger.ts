/** Structured logging; adapters write JSON lines that Workers Logs can query. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Wraps a logger so that logging can never break a request: a throwing logger is silenced.
 *
 * @example
 * const log = safeLogger(consoleLogger);
 */
export function safeLogger(inner: Logger): Logger {
  const guard =
    (level: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void => {
      try {
        inner[level](message, fields);
      } catch {
        // Nothing sensible to do: logging is best effort.
      }
    };
  return { info: guard('info'), warn: guard('warn'), error: guard('error') };
}

/** A logger that writes one JSON line per entry to the console. */
export const consoleLogger: Logger = {
  info: (message, fields) => console.log(JSON.stringify({ level: 'info', message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ level: 'warn', message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'error', message, ...fields })),
};
