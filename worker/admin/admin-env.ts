/** Hono env of the admin sub-app: the authenticated actor, recorded in audit entries. */
export type AdminEnv = { Variables: { actor: string } };
