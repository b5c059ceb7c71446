import type * as z from 'zod/mini';
import { parseJsonText } from '../../src/config/parse-json-text';
import type { GuardStateStore } from '../../src/guard/guard-ports';
import { GUARD_INCIDENT_KEY, GUARD_VERDICT_KEY } from '../../src/guard/guard-keys';
import { GuardIncidentSchema, type GuardIncident } from '../../src/guard/incident';
import { GuardVerdictRecordSchema, type GuardVerdictRecord } from '../../src/guard/verdict';
import type { Logger } from '../../src/ports/logger';

/**
 * The guard's verdict and incident in the ROLLOUT namespace. Values are validated on the way
 * in, so a hand-edited or corrupt key reads as absent (and is logged), never as a crash. KV
 * failures are logged and swallowed: the guard's next run tries again.
 */
export class KvGuardStateStore implements GuardStateStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly logger: Logger,
  ) {}

  readVerdict(): Promise<GuardVerdictRecord | undefined> {
    return this.read(GUARD_VERDICT_KEY, GuardVerdictRecordSchema);
  }

  writeVerdict(record: GuardVerdictRecord): Promise<void> {
    return this.write(GUARD_VERDICT_KEY, record);
  }

  readIncident(): Promise<GuardIncident | undefined> {
    return this.read(GUARD_INCIDENT_KEY, GuardIncidentSchema);
  }

  writeIncident(incident: GuardIncident): Promise<void> {
    return this.write(GUARD_INCIDENT_KEY, incident);
  }

  private async read<T>(key: string, schema: z.ZodMiniType<T>): Promise<T | undefined> {
    let text: string | null;
    try {
      text = await this.kv.get(key, 'text');
    } catch (error) {
      this.logger.warn('guard state unreadable', { key, error: String(error) });
      return undefined;
    }
    if (text === null) return undefined;
    const parsed = parseJsonText(text, schema);
    if (parsed.ok) return parsed.value;
    this.logger.warn('guard state is invalid; ignored', { key, issues: parsed.issues.slice(0, 3) });
    return undefined;
  }

  private async write(key: string, value: unknown): Promise<void> {
    try {
      await this.kv.put(key, JSON.stringify(value));
    } catch (error) {
      this.logger.error('guard state not saved', { key, error: String(error) });
    }
  }
}
