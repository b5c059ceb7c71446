/**
 * GrowthBook's edge app for Cloudflare, as its README deploys it, for `npm run bench` to compare
 * the splitter with. Everything is configured through the env (see throughput.ts): a static
 * payload, the same sticky cookie, injections and experiments off.
 */
import { handleRequest, type Env } from '@growthbook/edge-cloudflare';

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return handleRequest(request, env);
  },
};
