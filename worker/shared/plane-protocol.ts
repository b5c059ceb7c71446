/**
 * The protocol between the two Workers: what the edge adds to a request it forwards to the
 * control Worker over the CONTROL_PLANE service binding, and what the control Worker answers.
 * Types and constants only, so the edge imports nothing else of the control plane.
 *
 * Each Worker rolls back alone, so each side stays compatible with the other one version back:
 * the control Worker serves every version from {@link MIN_PROTOCOL_VERSION} up, and treats a
 * version above its own as its own (later versions only add headers, never change one). The
 * edge passes any answer through and needs nothing from it but the status.
 *
 * Version history:
 * - 1: the edge forwards the admin prefix on the app's host (`x-rollout-plane-host: app`) and,
 *   in local runs, the cockpit host (`cockpit`).
 * - 2: the edge also names its own Worker version (`x-rollout-plane-edge-version`), which the
 *   control Worker logs with each admin request it serves through the app's host.
 * - 3: the head refresh. The edge asks `GET /.rollout-plane/head` (host kind `plane`) every few
 *   seconds per location and answers {@link HeadMessage}; a newer head makes it ask
 *   `GET /.rollout-plane/committed` for the whole committed value. A control Worker one version
 *   back answers both with 404, and the edge then keeps the KV replica alone (as version 2 did).
 *   An edge one version back never asks.
 * - 4: error reports. The edge carries no Sentry SDK: it posts each report
 *   ({@link ErrorReportMessage}) to `POST /.rollout-plane/report` (host kind `plane`), and the
 *   control Worker sends it to Sentry. A control Worker one version back answers 404, and the
 *   edge's report then stays in its logs only.
 */

/** The version this build speaks. */
export const PROTOCOL_VERSION = 4;

/** The oldest version this build still serves (one back). */
export const MIN_PROTOCOL_VERSION = PROTOCOL_VERSION - 1;

/** Request and response header: the protocol version of the sender. */
export const PROTOCOL_HEADER = 'x-rollout-plane-protocol';

/** Request header: the host the visitor's request came to, as the edge saw it. */
export const HOST_KIND_HEADER = 'x-rollout-plane-host';

/** Request header (version 2): the edge's Worker version id. */
export const EDGE_VERSION_HEADER = 'x-rollout-plane-edge-version';

/**
 * Where a request to the control Worker came from:
 * - `app`: the admin prefix on the app's own host, through the edge. Only `Authorization:
 *   Bearer` counts there: any script of the app's origin could send a cookie or Access JWT.
 * - `cockpit`: the cockpit's own origin (its custom domain, or `cockpit.localhost` in local runs).
 * - `plane` (version 3): the edge's own head refresh, never a visitor's request. The edge sets it
 *   only on the requests it makes itself; a client's protocol headers are dropped before any
 *   forward, and the control Worker's own domain sits behind Cloudflare Access.
 */
export type HostKind = 'app' | 'cockpit' | 'plane';

/** Version 3: the committed head ({@link HeadMessage}), answered from the control plane's memory. */
export const PLANE_HEAD_PATH = '/.rollout-plane/head';

/** Version 3: the whole committed value ({@link CommittedValue}) of the current head. */
export const PLANE_COMMITTED_PATH = '/.rollout-plane/committed';

/** The first version that has the head refresh. */
export const HEAD_PROTOCOL_VERSION = 3;

/** Version 4: where the edge posts its error reports. */
export const PLANE_REPORT_PATH = '/.rollout-plane/report';

/**
 * Version 4: one error report of the edge, already stripped of visitor secrets by the edge
 * (the URL without its query, only the reported headers); the control Worker scrubs again.
 */
export interface ErrorReportMessage {
  kind: 'exception' | 'message';
  /** The error's name (`Error`, `TypeError`…) or, for a message, its level. */
  name: string;
  message: string;
  /** The error's stack as the runtime printed it, bounded. */
  stack?: string | undefined;
  level: 'info' | 'warning' | 'error';
  tags: Record<string, string>;
  extra: Record<string, unknown>;
  /** The edge Worker's version: the report's release. */
  workerVersion: string;
  request: { method: string; url: string; headers: Record<string, string> };
}

export type { CommittedValue, HeadMessage } from '../../src/config/committed-version';

/** Every header of this protocol: the edge drops them from a client's request before forwarding. */
export const PROTOCOL_HEADERS = [PROTOCOL_HEADER, HOST_KIND_HEADER, EDGE_VERSION_HEADER] as const;

/** What the control Worker reads from a forwarded request. */
export interface ForwardedFrom {
  /** The sender's protocol version; undefined for a request that did not come through the edge. */
  version: number | undefined;
  host: HostKind;
  /** The edge's Worker version (protocol 2 and later). */
  edgeVersion: string | undefined;
}

/**
 * Reads the protocol headers of a request that reached the control Worker. A request without
 * them came straight to the control Worker's own domain (the cockpit); a request that claims
 * `app` only loses rights by claiming it, so the claim needs no proof.
 *
 * @example
 * forwardedFrom(new Headers({ 'x-rollout-plane-protocol': '1', 'x-rollout-plane-host': 'app' }));
 * // { version: 1, host: 'app', edgeVersion: undefined }
 */
export function forwardedFrom(headers: Headers): ForwardedFrom {
  const raw = headers.get(PROTOCOL_HEADER);
  const version = raw !== null && /^[1-9]\d{0,3}$/.test(raw) ? Number(raw) : undefined;
  // Anything but an explicit cockpit claim through the edge is the app's host: the safe side.
  const claim = headers.get(HOST_KIND_HEADER);
  const host: HostKind =
    version === undefined
      ? 'cockpit'
      : claim === 'cockpit'
        ? 'cockpit'
        : claim === 'plane' && version >= HEAD_PROTOCOL_VERSION
          ? 'plane'
          : 'app';
  const edgeVersion =
    version !== undefined && version >= 2
      ? (headers.get(EDGE_VERSION_HEADER)?.slice(0, 64) ?? undefined)
      : undefined;
  return { version, host, edgeVersion };
}

/** True when this control Worker serves the version (a request that is not forwarded counts). */
export function servesProtocol(version: number | undefined): boolean {
  return version === undefined || version >= MIN_PROTOCOL_VERSION;
}
