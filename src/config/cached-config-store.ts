import type { Clock, ConfigSnapshot, ConfigSource, ConfigStore, Logger, RawConfigSource } from '../ports';
import { compareHeads, parseCommittedValue, type CommittedValue, type Head } from './committed-version';
import {
  parseConfig,
  parseHandBypass,
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

/** One committed version as this isolate holds it; (epoch, version) orders them. */
interface Versioned {
  config: RolloutConfig;
  /** The API kill switch of this version. */
  apiKill: string | null;
  epoch: number | undefined;
  from: 'kv' | 'control-plane';
}

/** What one KV read yielded: the hand kill (unversioned) and a candidate version, or a problem. */
interface KvRead {
  /** undefined when KV could not be read: the last hand kill stays (an outage never lifts a kill). */
  hand?: string | null;
  /** The hand-set bypass (KV `bypass`), undefined like `hand` when KV could not be read. */
  handBypass?: string | null;
  candidate?: Versioned;
  problem?: { message: string; level: 'warn' | 'error' };
}

/**
 * The in-isolate config cache. At most one KV read per TTL period, whatever the request rate:
 * a request that finds the cache expired reads KV while concurrent requests are served the
 * previous snapshot; on a cold isolate they share the one read. A failed or invalid read is
 * cached like a good one, so a broken KV is not hammered. Problems are logged once per incident.
 *
 * Versions never go backwards here. A committed version (config + API kill switch) is taken
 * only when its (epoch, version) is newer than the one held, whether it comes from KV (whose
 * location cache can answer an older value for a minute), from an admin write (`prime`) or from
 * the control plane's head refresh (`offer`). The hand-set kill switch is not versioned: each
 * KV read replaces it, so a person's `wrangler kv key put … kill` always wins.
 */
export class CachedConfigStore implements ConfigStore {
  private versioned: Versioned | undefined;
  private hand: string | null = null;
  /** KV `bypass` as last read: like the hand kill, unversioned, and kept through a KV outage. */
  private handBypass: string | null = null;
  /** True while the last KV read failed or was invalid: a KV version is then "last known good". */
  private kvFailing = false;
  private snapshot: ConfigSnapshot | undefined;
  private fetchedAt = 0;
  private inFlight: Promise<ConfigSnapshot> | undefined;
  private inFlightSince = 0;
  /** Bumped by every prime, so a KV read that started before it cannot overwrite its hand kill. */
  private generation = 0;
  private lastProblem: string | undefined;
  private lastKillTexts: [string | null, string | null, string | null] = [null, null, null];
  private olderSeen: string | undefined;

  constructor(
    private readonly source: RawConfigSource,
    private readonly options: CachedConfigStoreOptions,
  ) {}

  /**
   * The cached snapshot while it is fresh, without a promise: the per-request path takes it as it
   * is and calls `read()` only when the TTL has run out (which starts the one KV read).
   */
  current(): ConfigSnapshot | undefined {
    return this.snapshot && this.options.clock.now() - this.fetchedAt < this.options.ttlMs
      ? this.snapshot
      : undefined;
  }

  read(): Promise<ConfigSnapshot> {
    const now = this.options.clock.now();
    if (this.snapshot && now - this.fetchedAt < this.options.ttlMs) return Promise.resolve(this.snapshot);
    // A read started by another request may never settle if that request was cancelled, so a
    // shared read older than STALLED_READ_MS no longer counts: the next request starts its own.
    if (this.inFlight && now - this.inFlightSince < STALLED_READ_MS)
      return this.snapshot ? Promise.resolve(this.snapshot) : this.awaitShared(this.inFlight);
    const read = this.refresh();
    this.inFlight = read;
    this.inFlightSince = now;
    void read.finally(() => {
      if (this.inFlight === read) this.inFlight = undefined;
    });
    return read;
  }

  /** Reads KV now, whatever the TTL (the head refresh's fallback when the control plane fails). */
  readNow(): Promise<ConfigSnapshot> {
    this.fetchedAt = Number.NEGATIVE_INFINITY;
    this.inFlight = undefined;
    return this.read();
  }

  head(): Head | undefined {
    return this.versioned && { epoch: this.versioned.epoch, version: this.versioned.config.version };
  }

  prime(config: RolloutConfig): boolean {
    // An admin write of this control plane: same epoch as what is held. Writes can be answered
    // out of order, so an older version never replaces a newer one.
    const candidate: Versioned = {
      config,
      apiKill: this.versioned?.apiKill ?? null,
      epoch: this.versioned?.epoch,
      from: this.versioned?.from ?? 'kv',
    };
    if (!this.take(candidate, true)) return false;
    this.generation++;
    this.fetchedAt = this.options.clock.now();
    return true;
  }

  primeKill(text: string | null, hand: string | null = this.hand): void {
    // A cold isolate has nothing to patch: its first read will see the new value in KV.
    if (!this.versioned || !this.snapshot) return;
    this.generation++;
    this.versioned = { ...this.versioned, apiKill: text };
    this.hand = hand;
    this.rebuild();
  }

  offer(value: CommittedValue): boolean {
    return this.take(
      { config: value.config, apiKill: value.kill, epoch: value.epoch, from: 'control-plane' },
      false,
    );
  }

  /**
   * Takes a candidate version when it is newer than the one held (or the same, when `same` is
   * allowed); rebuilds the snapshot. An older one is ignored and logged once per version.
   */
  private take(candidate: Versioned, same: boolean): boolean {
    const held = this.head();
    if (held) {
      const order = compareHeads({ epoch: candidate.epoch, version: candidate.config.version }, held);
      if (order < 0 || (order === 0 && !same)) {
        if (order < 0) this.ignoredOlder(candidate, held);
        return false;
      }
    }
    this.versioned = candidate;
    this.rebuild();
    return true;
  }

  private ignoredOlder(candidate: Versioned, held: Head): void {
    const key = `${candidate.epoch}/${candidate.config.version}`;
    if (key === this.olderSeen) return;
    this.olderSeen = key;
    this.options.logger.info('older config version ignored', {
      offered: { epoch: candidate.epoch, version: candidate.config.version, from: candidate.from },
      serving: held,
    });
  }

  private rebuild(): void {
    const kill = this.parseKill(this.hand, this.versioned?.apiKill ?? null, this.handBypass);
    const source: ConfigSource = !this.versioned
      ? 'safe-default'
      : this.versioned.from === 'control-plane'
        ? 'control-plane'
        : this.kvFailing
          ? 'last-known-good'
          : 'kv';
    this.snapshot = {
      config: this.versioned?.config ?? this.options.safeDefault,
      kill,
      source,
      epoch: this.versioned?.epoch,
    };
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
    const read = await this.load();
    this.fetchedAt = this.options.clock.now();
    // An admin write primed this isolate while the read was in flight: its hand kill is newer.
    if (generation === this.generation && read.hand !== undefined) this.hand = read.hand;
    if (read.handBypass !== undefined) this.handBypass = read.handBypass;
    this.kvFailing = read.problem !== undefined;
    if (read.problem) this.problem(read.problem.message, this.versioned ? 'error' : read.problem.level);
    else this.recovered();
    if (!read.candidate || !this.take(read.candidate, true)) this.rebuild();
    return this.snapshot!;
  }

  private async load(): Promise<KvRead> {
    let raw: Awaited<ReturnType<RawConfigSource['readRaw']>>;
    try {
      raw = await this.source.readRaw();
    } catch (error) {
      // Keep the last kill switches: a KV outage must not lift a kill.
      const message = `config store unreachable: ${String((error as Error)?.message ?? error)}`;
      return { problem: { message, level: 'error' } };
    }
    const hand = raw.kill;
    const handBypass = raw.bypass ?? null;
    // The committed value (config + API kill + epoch); a control plane one version back writes
    // only `config` and `kill:api`, so a plain `config` newer than it is taken, under its epoch.
    const committed = raw.committed ? parseCommittedValue(raw.committed) : undefined;
    const plain = raw.config === null ? undefined : parseConfig(raw.config);
    if (committed?.ok) {
      const value = committed.value;
      if (plain?.ok && plain.config.version > value.version)
        return { hand, handBypass, candidate: legacy(plain.config, raw.apiKill ?? null, value.epoch) };
      return {
        hand,
        handBypass,
        candidate: { config: value.config, apiKill: value.kill, epoch: value.epoch, from: 'kv' },
      };
    }
    if (plain?.ok)
      return { hand, handBypass, candidate: legacy(plain.config, raw.apiKill ?? null, undefined) };
    if (plain === undefined && committed === undefined)
      // Normal before the first admin write (the documented local run), so a warning, not an error.
      return { hand, handBypass, problem: { message: 'no config in KV (key "config")', level: 'warn' } };
    const issues = [
      ...(plain && !plain.ok ? plain.issues : []),
      ...(committed?.ok === false ? committed.issues : []),
    ];
    return {
      hand,
      handBypass,
      problem: { message: `invalid config in KV: ${issues.slice(0, 5).join('; ')}`, level: 'error' },
    };
  }

  // The hand-set and the API kill switch both stand: what either forces off is off. The hand-set
  // bypass joins them: on from either source (the API's is its kill switch's `bypass` token).
  private parseKill(hand: string | null, api: string | null, handBypass: string | null): KillSwitch {
    const bypass = parseHandBypass(handBypass);
    const kill = unionKillSwitch(parseKillSwitch(hand), parseKillSwitch(api));
    if (
      hand !== this.lastKillTexts[0] ||
      api !== this.lastKillTexts[1] ||
      handBypass !== this.lastKillTexts[2]
    ) {
      this.lastKillTexts = [hand, api, handBypass];
      if (bypass.unreadable)
        this.options.logger.error('bypass switch unreadable: bypass on', { why: bypass.unreadable });
      if (bypass.on)
        this.options.logger.warn('bypass mode active (KV bypass)', { value: handBypass?.slice(0, 64) });
      if (kill.unknownTokens.length)
        this.options.logger.warn('kill switch has unknown tokens, ignored', { tokens: kill.unknownTokens });
      if (kill.unreadable)
        this.options.logger.error('kill switch unreadable: canary stopped', { why: kill.unreadable });
      if (hand !== null) this.options.logger.warn('kill switch active', { value: hand.slice(0, 256) });
      if (api !== null) this.options.logger.warn('kill switch active (API)', { value: api.slice(0, 256) });
    }
    return bypass.on && !kill.bypass ? { ...kill, bypass: true } : kill;
  }

  private problem(message: string, level: 'warn' | 'error'): void {
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.options.logger[level](message, { servedFrom: this.versioned ? 'last-known-good' : 'safe-default' });
  }

  private recovered(): void {
    if (this.lastProblem === undefined) return;
    this.options.logger.info('config store recovered', { after: this.lastProblem });
    this.lastProblem = undefined;
  }
}

function legacy(config: RolloutConfig, apiKill: string | null, epoch: number | undefined): Versioned {
  return { config, apiKill, epoch, from: 'kv' };
}
