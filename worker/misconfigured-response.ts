/**
 * The answer when the Worker's own vars are invalid (a deploy mistake): 503 naming each bad
 * variable, so the fix is obvious from one curl.
 */
export function misconfiguredResponse(issues: string[]): Response {
  return Response.json(
    { error: 'edge-rollout is misconfigured', issues },
    { status: 503, headers: { 'retry-after': '30' } },
  );
}
