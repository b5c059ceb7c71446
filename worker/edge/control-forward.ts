import type { Logger } from '../../src/ports';
import {
  EDGE_VERSION_HEADER,
  HOST_KIND_HEADER,
  PROTOCOL_HEADER,
  PROTOCOL_HEADERS,
  PROTOCOL_VERSION,
  type HostKind,
} from '../shared/plane-protocol';

/** The control Worker as the edge sees it: the CONTROL_PLANE service binding. */
export interface ControlPlaneBinding {
  fetch(request: Request): Promise<Response>;
}

/** Forwards one request to the control Worker, marked with the host it came to. */
export type ControlForward = (request: Request, host: HostKind) => Promise<Response>;

/**
 * The admin prefix on the app's host (and, in local runs, the cockpit's host) belongs to the
 * control Worker. The edge hands such requests over the service binding, stamped with the
 * protocol headers (a client's own copies are dropped first), and never sends them to an origin.
 * Visitors never wait on this: when the control Worker is down or mid-deploy, only these requests
 * get a 503, with `Retry-After`.
 *
 * Without the binding (the top-level config run alone, `npx wrangler dev`), the answer is a 503
 * that says how to run the whole stack.
 *
 * @example
 * const forward = controlForward({ binding: env.CONTROL_PLANE, workerVersion, logger });
 * await forward(request, 'app');
 */
export function controlForward({
  binding,
  workerVersion,
  logger,
  isDown = () => false,
  afterWrite,
}: {
  binding: ControlPlaneBinding | undefined;
  workerVersion: string;
  logger: Logger;
  /** A switchable fault for tests (local runs only): true while the control plane must look down. */
  isDown?: () => boolean | Promise<boolean>;
  /** Called after a write the control Worker accepted (a 2xx to anything but GET or HEAD). */
  afterWrite?: () => void;
}): ControlForward {
  if (!binding)
    return async function controlNotBound() {
      return unavailable(
        'the control plane is not running here: start both Workers with `npm run dev` (docs/CONTRIBUTING.md)',
      );
    };
  return async function forwardToControl(request, host) {
    const headers = new Headers(request.headers);
    for (const name of PROTOCOL_HEADERS) headers.delete(name);
    headers.set(PROTOCOL_HEADER, String(PROTOCOL_VERSION));
    headers.set(HOST_KIND_HEADER, host);
    headers.set(EDGE_VERSION_HEADER, workerVersion);
    try {
      if (await isDown()) throw new Error('control plane fault switched on');
      const response = await binding.fetch(new Request(request, { headers }));
      // Every answer of the control Worker carries the protocol header. A 5xx without it comes
      // from the runtime: locally, wrangler's "Worker not found" when only this config runs.
      if (response.status >= 500 && !response.headers.has(PROTOCOL_HEADER)) {
        await response.body?.cancel();
        return unavailable(
          'the control plane is not running here: start both Workers with `npm run dev` (docs/CONTRIBUTING.md)',
        );
      }
      if (afterWrite && response.ok && request.method !== 'GET' && request.method !== 'HEAD') afterWrite();
      return response;
    } catch (error) {
      logger.warn('control plane unreachable', { error: String(error) });
      return unavailable('the control plane is unreachable; visitors are unaffected. Retry shortly.');
    }
  };
}

function unavailable(error: string): Response {
  return Response.json(
    { error },
    { status: 503, headers: { 'retry-after': '5', 'cache-control': 'no-store' } },
  );
}
