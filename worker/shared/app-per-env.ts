/** What a Worker's entry builds from its env: the app, or the issues that make the env unusable. */
export type Built<T> = T | { issues: string[] };

/**
 * One app per env object: the env is stable for an isolate's life, so settings, caches and the
 * config store are built once per isolate, not per request. A misconfigured env is logged once
 * (its issues go to the logs, never to a caller) and remembered as such.
 *
 * @example
 * const appFor = appPerEnv((env: EdgeEnv) => (runtime.ok ? { app } : { issues }), 'edge-rollout edge misconfigured');
 * const entry = appFor(env); // the same object for every request of the isolate
 */
export function appPerEnv<E extends object, T extends object>(
  build: (env: E) => Built<T>,
  misconfigured: string,
): (env: E) => Built<T> {
  const built = new WeakMap<E, Built<T>>();
  return function appFor(env) {
    let entry = built.get(env);
    if (!entry) {
      entry = build(env);
      if ('issues' in entry)
        console.error(JSON.stringify({ level: 'error', message: misconfigured, issues: entry.issues }));
      built.set(env, entry);
    }
    return entry;
  };
}
