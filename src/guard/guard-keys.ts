/** KV key of the latest guard verdict ({@link GuardVerdictRecordSchema}); the admin API reads it too. */
export { GUARD_VERDICT_KEY } from '../admin/storage-keys';

/** KV key of the last incident the guard acted on ({@link GuardIncidentSchema}). */
export const GUARD_INCIDENT_KEY = 'guard:incident';
