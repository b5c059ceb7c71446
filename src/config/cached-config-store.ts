import type { Clock, ConfigSnapshot, ConfigStore, Logger, RawConfigSource } from '../ports';
import {
  NO_KILL,
  parseConfig,
  parseKillSwitch,
  unionKillSwitch,
  type KillSwitch,
  type RolloutConfig,
} from './config-schema';

/** Options of {@link CachedConfigStore}. */
export interface CachedConfigStoreOptions {
  /** How long a read is served from the isolate before KV is read again. */
  ttlMs: number;
  clock: Clock;
  logger: Logger;
  /** Served when no valid config has ever been read. */
  safeDefault: RolloutConfig;
}

/** A shared KV read older than this is presumed abandoned (its request may have been cancelled). */
const STALLED_READ_MS = 2_000;

interface CacheEntry {
  snapshot: ConfigSnapshot;
  fetchedAt: number;
}

/**
 * The in-isolate config cache. At most one KV read per TTL period, whatever the request rate:
 * a request that finds the cache expired reads KV while concurrent requests are served the
 * previous snapshot; on a cold isolate they share the one read. A failed or invalid read is
 * cached like a good one, so a broken KV is not hammered. Problems are logged once per incident.
 */
export class CachedConfigStore implements ConfigStore {
  private entry: CacheEntry | undefined;
  private lastGood: RolloutConfig | undefined;
  private inFlight: Promise<ConfigSnapshot> | undefined;
  private inFlightSince = 0;
  /** Bumped by every prime, so a KV read that started before it cannot overwrite it. */
  private generation = 0;
  private lastProblem: string | undefined;
  private lastKillText: string | null = null;
  private lastApiKillText: string | null = null;

  constructor(
    private readonly source: RawConfigSource,
    private readonly options: CachedConfigStoreOptions,
  ) {}

  /**
   * The cached snapshot while it is fresh, without a promise: the per-request path takes it as it
   * is and calls `read()` only when the TTL has run out (which starts the one KV read).
   */
  current(): ConfigSnapshot | undefined {
    const entry = this.entry;
    return entry && this.options.clock.now() - entry.fetchedAt < this.options.ttlMs
      ? entry.snapshot
      : undefined;
  }

  read(): Promise<ConfigSnapshot> {
    const now = this.options.clock.now();
    if (this.entry && now - this.entry.fetchedAt < this.options.ttlMs)
      return Promise.resolve(this.entry.snapshot);
    // A read started by another request may never settle if that request was cancelled, so a
    // shared read older than STALLED_READ_MS no longer counts: the next request starts its own.
    if (this.inFlight && now - this.inFlightSince < STALLED_READ_MS)
      return this.entry ? Promise.resolve(this.entry.snapshot) : this.awaitShared(this.inFlight);
    const read = this.refresh();
    this.inFlight = read;
    this.inFlightSince = now;
    void read.finally(() => {
      if (this.inFlight === read) this.inFlight = undefined;
    });
    return read;
  }

  prime(config: RolloutConfig): boolean {
    // Writes can be answered out of order: an older version never replaces a newer primed one.
    const current = this.entry?.snapshot;
    if (current && current.source === 'kv' && current.config.version > config.version) return false;
    this.generation++;
    this.lastGood = config;
    const kill = this.entry?.snapshot.kill ?? NO_KILL;
    this.entry = { snapshot: { config, kill, source: 'kv' }, fetchedAt: this.options.clock.now() };
    return true;
  }

  primeKill(text: string | null, hand: string | null = this.lastKillText): void {
    // A cold isolate has nothing to patch: its first read will see the new value in KV.
    if (!this.entry) return;
    this.generation++;
    const kill = this.parseKill(hand, text);
    this.entry = { ...this.entry, snapshot: { ...this.entry.snapshot, kill } };
  }

  /**
   * Waits for a read another request started, but not forever: on a cold isolate there is no
   * snapshot to fall back on, so a stalled shared read is replaced by a fresh one.
   */
  private awaitShared(shared: Promise<ConfigSnapshot>): Promise<ConfigSnapshot> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<ConfigSnapshot>((resolve) => {
      timer = setTimeout(() => resolve(this.read()), STALLED_READ_MS);
    });
    return Promise.race([shared, stalled]).finally(() => timer !== undefined && clearTimeout(timer));
  }

  private async refresh(): Promise<ConfigSnapshot> {
    const generation = this.generation;
    const snapshot = await this.load();
    // An admin write primed this isolate while the read was in flight: the read is older.
    if (generation !== this.generation && this.entry) return this.entry.snapshot;
    if (snapshot.source === 'kv') this.lastGood = snapshot.config;
    this.entry = { snapshot, fetchedAt: this.options.clock.now() };
    return snapshot;
  }

  private async load(): Promise<ConfigSnapshot> {
    let raw: { config: string | null; kill: string | null; apiKill?: string | null };
    try {
      raw = await this.source.readRaw();
    } catch (error) {
      this.problem(`config store unreachable: ${String((error as Error)?.message ?? error)}`);
      // Keep the last kill switch: a KV outage must not lift a kill.
      return this.fallback(this.entry?.snapshot.kill ?? NO_KILL);
    }
    const kill = this.parseKill(raw.kill, raw.apiKill ?? null);
    if (raw.config === null) {
      // Normal before the first admin write (the documented local run), so a warning, not an error.
      this.problem('no config in KV (key "config")', this.lastGood ? 'error' : 'warn');
      return this.fallback(kill);
    }
    const parsed = parseConfig(raw.config);
    if (!parsed.ok) {
      this.problem(`invalid config in KV: ${parsed.issues.slice(0, 5).join('; ')}`);
      return this.fallback(kill);
    }
    this.recovered();
    return { config: parsed.config, kill, source: 'kv' };
  }

  private fallback(kill: KillSwitch): ConfigSnapshot {
    if (this.lastGood) return { config: this.lastGood, kill, source: 'last-known-good' };
    return { config: this.options.safeDefault, kill, source: 'safe-default' };
  }

  // The hand-set and the API kill switch both stand: what either forces off is off.
  private parseKill(hand: string | null, api: string | null): KillSwitch {
    const kill = unionKillSwitch(parseKillSwitch(hand), parseKillSwitch(api));
    if (hand !== this.lastKillText || api !== this.lastApiKillText) {
      this.lastKillText = hand;
      this.lastApiKillText = api;
      if (kill.unknownTokens.length)
        this.options.logger.warn('kill switch has unknown tokens, ignored', { tokens: kill.unknownTokens });
      if (hand !== null) this.options.logger.warn('kill switch active', { value: hand.slice(0, 256) });
      if (api !== null) this.options.logger.warn('kill switch active (API)', { value: api.slice(0, 256) });
    }
    return kill;
  }

  private problem(message: string, level: 'warn' | 'error' = 'error'): void {
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.options.logger[level](message, { servedFrom: this.lastGood ? 'last-known-good' : 'safe-default' });
  }

  private recovered(): void {
    if (this.lastProblem === undefined) return;
    this.options.logger.info('config store recovered', { after: this.lastProblem });
    this.lastProblem = undefined;
  }
}
