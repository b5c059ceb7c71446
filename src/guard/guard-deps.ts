import type { Clock } from '../ports/clock';
import type { ErrorReporter } from '../ports/error-reporter';
import type { Logger } from '../ports/logger';
import type { GuardStateStore, ReadConfig, RolloutCommands, StatsSource } from './guard-ports';
import type { Notifier } from './webhook-notifier';

/** Everything one guard run talks to. */
export interface GuardDeps {
  readConfig: ReadConfig;
  stats: StatsSource;
  commands: RolloutCommands;
  state: GuardStateStore;
  notifier: Notifier;
  reporter: ErrorReporter;
  logger: Logger;
  /** The run's time: bake times count against it. */
  clock: Clock;
  /** Named in notifications (`production`, `staging`). */
  environment?: string;
}
