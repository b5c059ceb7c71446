import type { CommittedValue, Head, HeadMessage } from '../config/committed-version';
import { compareHeads } from '../config/committed-version';
import type { Clock, ConfigSnapshot, ConfigStore, Logger } from '../ports';
import {
  HEAD_REFRESH,
  cachedHeadUsable,
  headCheckDue,
  headIsNewer,
  waitForHeadMs,
  type CachedHead,
  type HeadRefreshSettings,
} from './head-decisions';

/** The control plane as the head refresh asks it (over the service binding). Never throws. */
export interface ControlPlaneHeads {
  /** The committed head, or undefined when the control plane is unreachable or too old to answer. */
  head(): Promise<HeadMessage | undefined>;
  /** The committed value of `head` (or a newer one), or undefined. */
  committed(head: Head): Promise<CommittedValue | undefined>;
}

/**
 * What the isolates of one location share (the Cache API, per data center). Where it does
 * nothing (workers.dev), `getHead` finds nothing and each isolate asks the control plane itself.
 * Never throws.
 */
export interface LocationHeadCache {
  getHead(): Promise<CachedHead | undefined>;
  putHead(entry: CachedHead): Promise<void>;
  /** A committed value another isolate of the location already fetched (immutable per head). */
  getCommitted(head: Head): Promise<CommittedValue | undefined>;
  putCommitted(value: CommittedValue): Promise<void>;
}

/** The store the head refresh feeds: its version, a newer committed value, a KV read now. */
export interface RefreshableStore extends ConfigStore {
  head(): Head | undefined;
  offer(value: CommittedValue): boolean;
  readNow(): Promise<ConfigSnapshot>;
}

/** Keeps work alive after the response (the request's `waitUntil`). */
export type KeepAlive = (promise: Promise<unknown>) => void;

/** What {@link HeadRefresher} needs. */
export interface HeadRefresherDeps {
  plane: ControlPlaneHeads;
  cache: LocationHeadCache;
  store: RefreshableStore;
  clock: Clock;
  logger: Logger;
  settings?: HeadRefreshSettings;
}

/**
 * Learns the committed head every few seconds, off the response path, and brings a newer
 * version into the isolate's store: from the control plane, with KV as the fallback. The
 * decisions are {@link headCheckDue}, {@link waitForHeadMs}, {@link cachedHeadUsable} and
 * {@link headIsNewer}; this class only runs them against the ports. Nothing here throws into
 * a request: a failed check is logged once per incident and the isolate keeps what it has.
 *
 * @example
 * const refresher = new HeadRefresher({ plane, cache, store, clock: systemClock, logger });
 * const store = refresher.wrap(); // the ConfigStore the splitter reads
 * refresher.keepAlive = ctx.waitUntil.bind(ctx); // per request
 */
export class HeadRefresher {
  /** Set per request by the Worker's entry; without it a check runs unattached. */
  keepAlive: KeepAlive = (promise) => void promise;
  private lastCheckAt: number | undefined;
  private running: Promise<void> | undefined;
  private failing = false;
  private readonly settings: HeadRefreshSettings;

  constructor(private readonly deps: HeadRefresherDeps) {
    this.settings = deps.settings ?? HEAD_REFRESH;
  }

  /**
   * Called by each request: starts a check when one is due and answers what the request should
   * await before reading its snapshot (at most `coldWaitMs`), or undefined (not waiting).
   */
  onRequest(): Promise<void> | undefined {
    const now = this.deps.clock.now();
    if (!headCheckDue(now, this.lastCheckAt, this.settings)) return undefined;
    const waitMs = waitForHeadMs(now, this.lastCheckAt, this.settings);
    const check = this.checkNow();
    return waitMs > 0 ? settleWithin(check, waitMs) : undefined;
  }

  /** Checks now, whatever the interval (after a write went through this isolate). */
  checkNow(): Promise<void> {
    this.lastCheckAt = this.deps.clock.now();
    this.running ??= this.refreshOnce().finally(() => {
      this.running = undefined;
    });
    this.keepAlive(this.running);
    return this.running;
  }

  /** The {@link ConfigStore} the splitter reads: the store, behind a head check per interval. */
  wrap(): ConfigStore {
    const { store } = this.deps;
    let pending: Promise<void> | undefined;
    return {
      current: () => {
        pending = this.onRequest();
        return pending ? undefined : store.current?.();
      },
      read: async () => {
        const wait = pending ?? this.onRequest();
        pending = undefined;
        if (wait) await wait;
        return store.read();
      },
      prime: (config) => store.prime(config),
      primeKill: (text, hand) => store.primeKill(text, hand),
      head: () => store.head(),
      offer: (value) => store.offer(value),
    };
  }

  private async refreshOnce(): Promise<void> {
    try {
      const head = await this.learnHead();
      if (!head) return this.problem('control plane head unavailable; serving the KV replica');
      this.recovered();
      if (!headIsNewer(head, this.deps.store.head())) return;
      const value = await this.fetchCommitted(head);
      if (value) this.deps.store.offer(value);
      // The control plane named a newer version but could not send it: KV may hold it already.
      else await this.deps.store.readNow();
    } catch (error) {
      this.problem(`head refresh failed: ${String((error as Error)?.message ?? error)}`);
    }
  }

  /** The location's cached head when young enough, else the control plane's (then shared). */
  private async learnHead(): Promise<HeadMessage | undefined> {
    const { cache, plane, clock } = this.deps;
    const cached = await cache.getHead();
    if (cachedHeadUsable(cached, clock.now(), this.settings)) return cached!.head;
    const head = await withTimeout(plane.head(), this.settings.headTimeoutMs);
    if (head) this.keepAlive(cache.putHead({ head, fetchedAt: clock.now() }));
    return head;
  }

  private async fetchCommitted(head: HeadMessage): Promise<CommittedValue | undefined> {
    const { cache, plane } = this.deps;
    const cached = await cache.getCommitted(head);
    if (cached) return cached;
    const value = await withTimeout(plane.committed(head), this.settings.configTimeoutMs);
    if (!value || compareHeads(value, head) < 0) return undefined;
    this.keepAlive(cache.putCommitted(value));
    return value;
  }

  private problem(message: string): void {
    if (this.failing) return;
    this.failing = true;
    this.deps.logger.warn(message);
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.deps.logger.info('control plane head refresh recovered');
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; never rejects. */
function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise.then(noop, noop), timeout]).finally(
    () => timer !== undefined && clearTimeout(timer),
  );
}

/** The promise's value, or undefined after `ms` or on rejection. */
async function withTimeout<T>(promise: Promise<T | undefined>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function noop(): void {}
