import {
  parseCommittedValue,
  parseHeadMessage,
  type CommittedValue,
  type Head,
  type HeadMessage,
} from '../../src/config/committed-version';
import type { CachedHead } from '../../src/propagation/head-decisions';
import type { ControlPlaneHeads, LocationHeadCache } from '../../src/propagation/head-refresher';
import {
  EDGE_VERSION_HEADER,
  HOST_KIND_HEADER,
  PLANE_COMMITTED_PATH,
  PLANE_HEAD_PATH,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
} from '../shared/plane-protocol';
import type { ControlPlaneBinding } from './control-forward';

/**
 * The edge's side of the head refresh (protocol 3): the two plane messages over the
 * CONTROL_PLANE service binding, and the location's shared cache over the Cache API. The
 * decisions live in src/propagation; this file only speaks HTTP.
 */

/** Cache API keys; never served to anyone (a Worker's cache.put is reachable only through cache.match). */
const HEAD_CACHE_URL = 'https://edge-rollout.invalid/.rollout-plane/head';
const committedCacheUrl = (head: Head) =>
  `https://edge-rollout.invalid/.rollout-plane/committed/${head.epoch ?? 'legacy'}/${head.version}`;

/**
 * The control plane's heads over the service binding. Anything but a valid 200 (a control
 * Worker one version back answers 404; unreachable; `isDown` switched on) is undefined: the
 * edge keeps the KV replica.
 *
 * @example
 * const plane = planeHeads({ binding: env.CONTROL_PLANE, workerVersion });
 * await plane.head(); // { epoch, version, kill, committedAt } | undefined
 */
export function planeHeads({
  binding,
  workerVersion,
  isDown = () => false,
}: {
  binding: ControlPlaneBinding | undefined;
  workerVersion: string;
  isDown?: () => boolean | Promise<boolean>;
}): ControlPlaneHeads {
  async function ask(path: string): Promise<unknown> {
    if (!binding || (await isDown())) return undefined;
    try {
      const response = await binding.fetch(
        new Request(`https://edge-rollout-control.internal${path}`, {
          headers: {
            [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
            [HOST_KIND_HEADER]: 'plane',
            [EDGE_VERSION_HEADER]: workerVersion,
          },
        }),
      );
      if (response.status !== 200) {
        await response.body?.cancel();
        return undefined;
      }
      return await response.json();
    } catch {
      return undefined;
    }
  }
  return {
    head: async () => parseHeadMessage(await ask(PLANE_HEAD_PATH)),
    committed: async () => {
      const parsed = parseCommittedValue(await ask(PLANE_COMMITTED_PATH));
      return parsed.ok ? parsed.value : undefined;
    },
  };
}

/**
 * The location's shared head over the Cache API (`caches.default`, per data center). Where the
 * Cache API does nothing (workers.dev) or is absent, every read misses and each isolate asks
 * the control plane on its own, at the same interval. Errors count as misses.
 */
export function cacheApiHeads(cache: Cache | undefined, maxAgeSeconds: number): LocationHeadCache {
  async function match(url: string): Promise<unknown> {
    try {
      const hit = await cache?.match(url);
      return hit ? await hit.json() : undefined;
    } catch {
      return undefined;
    }
  }
  async function put(url: string, body: unknown, seconds: number): Promise<void> {
    try {
      await cache?.put(url, Response.json(body, { headers: { 'cache-control': `max-age=${seconds}` } }));
    } catch {
      // A cache that refuses is a cache that does nothing: the isolates ask on their own.
    }
  }
  return {
    async getHead() {
      const entry = (await match(HEAD_CACHE_URL)) as { head?: unknown; fetchedAt?: unknown } | undefined;
      const head = parseHeadMessage(entry?.head);
      return head && typeof entry?.fetchedAt === 'number'
        ? ({ head, fetchedAt: entry.fetchedAt } satisfies CachedHead)
        : undefined;
    },
    putHead: (entry) => put(HEAD_CACHE_URL, entry, maxAgeSeconds),
    async getCommitted(head) {
      const parsed = parseCommittedValue(await match(committedCacheUrl(head)));
      return parsed.ok ? parsed.value : undefined;
    },
    // A committed value never changes: the version names it.
    putCommitted: (value: CommittedValue) => put(committedCacheUrl(value), value, 300),
  };
}

export type { HeadMessage };
