const tails = new WeakMap<object, Promise<unknown>>();

/**
 * Runs admin writes to one KV namespace one after another within this isolate, so two requests
 * (or a request and the Cron guard) never both build on the same version and lose one change.
 * Isolates do not share it: across isolates, `If-Match` is the guard against stale writes.
 *
 * @example
 * return oneWriterAtATime(ctx.kv, () => applyAndWrite(ctx, command));
 */
export function oneWriterAtATime<T>(namespace: object, task: () => Promise<T>): Promise<T> {
  const previous = tails.get(namespace) ?? Promise.resolve();
  const run = previous.then(task);
  tails.set(
    namespace,
    run.catch(() => undefined),
  );
  return run;
}
