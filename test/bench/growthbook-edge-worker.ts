/**
 * GrowthBook's edge app for Cloudflare, for `npm run bench` to compare the splitter with. It is
 * configured through the env (see throughput.ts): the same sticky cookie, injections and
 * experiments off. The payload is static: parsed once per isolate and handed over as a config
 * override, since the app otherwise reads it from KV on every request (or, without KV, fetches
 * it from the GrowthBook API), where the splitter reads KV once per isolate.
 */
import type { FeatureApiResponse } from '@growthbook/growthbook';
import { handleRequest, type Env } from '@growthbook/edge-cloudflare';

let payload: FeatureApiResponse | undefined;

export default {
  fetch(request: Request, env: Env & { GROWTHBOOK_PAYLOAD: string }): Promise<Response> {
    payload ??= JSON.parse(env.GROWTHBOOK_PAYLOAD) as FeatureApiResponse;
    return handleRequest(request, env, { payload });
  },
};
