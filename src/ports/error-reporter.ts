/** Context attached to a reported error. */
export interface ErrorContext {
  tags?: Record<string, string>;
  extra?: Record<string, unknown>;
}

/** Where exceptions and notable events go (Sentry in production). Implementations never throw. */
export interface ErrorReporter {
  captureException(error: unknown, context?: ErrorContext): void;
  captureMessage(message: string, level: 'info' | 'warning' | 'error', context?: ErrorContext): void;
}

/** A reporter that drops everything (Sentry off). */
export const nullErrorReporter: ErrorReporter = {
  captureException: () => {},
  captureMessage: () => {},
};
