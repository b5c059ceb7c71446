const tails = new WeakMap<object, Promise<unknown>>();

/**
 * How long a write waits for the one before it. A write whose request was cancelled may never
 * settle, and one stuck write must not block every later write (and the guard's abort) forever.
 */
const WAIT_FOR_PREVIOUS_MS = 10_000;

/**
 * Runs admin writes to one KV namespace one after another within this isolate, so two requests
 * (or a request and the Cron guard) never both build on the same version and lose one change.
 * Isolates do not share it: across isolates, `If-Match` is the guard against stale writes.
 *
 * @example
 * return oneWriterAtATime(ctx.kv, () => applyAndWrite(ctx, command));
 */
export function oneWriterAtATime<T>(
  namespace: object,
  task: () => Promise<T>,
  waitForPreviousMs = WAIT_FOR_PREVIOUS_MS,
): Promise<T> {
  const previous = tails.get(namespace) ?? Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitForPreviousMs)));
  const ready = Promise.race([previous, givenUp]).finally(() => clearTimeout(timer));
  const run = ready.then(task);
  tails.set(
    namespace,
    run.catch(() => undefined),
  );
  return run;
}
