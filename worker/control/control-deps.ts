import type { Settings } from '../../src/config/settings';
import type { Clock, ConfigStore, Logger, MetricsSink } from '../../src/ports';
import type { FetchFunction } from '../../src/proxy/proxy-to-origin';
import type { ControlPlane } from './single-writer/control-plane';

/**
 * What the control Worker's handlers need, built once per isolate by runtime.ts (tests build
 * their own). Each handler takes the slice it uses (`Pick<ControlDeps, …>`).
 */
export interface ControlDeps {
  settings: Settings;
  /** The ROLLOUT namespace: the read replica and the hand-set kill switch (read by GET /state). */
  kv: KVNamespace;
  /** The single writer: every admin write, the audit log, the guard's state. */
  control: ControlPlane;
  /** The replica as the edge reads it (the events route and the cockpit's session evaluate with it). */
  store: ConfigStore;
  clock: Clock;
  logger: Logger;
  fetch: FetchFunction;
  metrics: MetricsSink;
  workerVersion: string;
}
