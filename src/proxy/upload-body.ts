import type { Clock } from '../ports';

/**
 * A visitor's request body on its way to the origin, pumped through a stream we own so that the
 * proxy knows three things the runtime's `fetch` does not tell: when the whole body has been read
 * (the response deadline starts only then), whose turn it is while it flows (the visitor's, to send
 * bytes, or the origin's, to take them), and whether the visitor broke it (a short body, a body
 * longer than its `Content-Length`, a dropped connection). A failure that happens while we wait on
 * the visitor is the visitor's, never the cohort's.
 */

/**
 * Makes the stream the body is sent through when its length is known: in workerd,
 * `new FixedLengthStream(length)`. That keeps `Content-Length` on the request to the origin; a
 * plain `TransformStream` would be sent `Transfer-Encoding: chunked`, which many upload endpoints
 * refuse with 411.
 */
export type FixedLengthStreamFactory = (length: number) => ReadableWritablePair<Uint8Array, Uint8Array>;

/** How the upload ended. */
export type UploadEnd =
  /** Every byte the visitor declared was read and handed on. */
  | 'sent'
  /** The visitor broke the body: see {@link Upload.clientFault}. */
  | 'client-failed'
  /** The origin side stopped taking the body (it answered early, reset, or fetch gave up). */
  | 'origin-stopped';

/** A body being pumped from the visitor to the origin. */
export interface Upload {
  /** What to hand `fetch` as the body. */
  readonly body: ReadableStream<Uint8Array>;
  /** Settles (never rejects) when the upload has ended, however it ended. */
  readonly finished: Promise<UploadEnd>;
  /** Whose turn it is right now: the visitor's to send bytes, the origin's to take them, or no one's. */
  waitingOn(): 'client' | 'origin' | 'none';
  /** Why the visitor's side failed, when it did (for the logs; never sent to anyone). */
  clientFault(): string | undefined;
  /** Milliseconds spent waiting for the visitor's bytes so far: not the cohort's latency. */
  clientMs(): number;
}

/**
 * The `Content-Length` a request declares, or undefined when it declares none or an invalid one
 * (its body then goes chunked, as the visitor sent it).
 *
 * @example
 * declaredLength(new Headers({ 'content-length': '300000' })); // 300000
 */
export function declaredLength(headers: Headers): number | undefined {
  const value = headers.get('content-length');
  if (value === null || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/**
 * Starts pumping `body` to a new stream and returns it with the upload's state. With a declared
 * length and a `fixedLength` factory, the stream keeps that length (see
 * {@link FixedLengthStreamFactory}); otherwise it is an identity `TransformStream`.
 *
 * @example
 * const upload = startUpload(request.body, declaredLength(request.headers), clock, (n) => new FixedLengthStream(n));
 * const response = fetch(url, { method: 'PUT', body: upload.body });
 * await upload.finished; // 'sent': the response deadline may start now
 */
export function startUpload(
  body: ReadableStream<Uint8Array>,
  length: number | undefined,
  clock: Clock,
  fixedLength?: FixedLengthStreamFactory,
): Upload {
  const pair =
    length !== undefined && fixedLength !== undefined
      ? fixedLength(length)
      : new TransformStream<Uint8Array, Uint8Array>();
  const reader = body.getReader();
  const writer = pair.writable.getWriter();
  // Observed through `finished` instead; unobserved, a rejected `closed` is reported as uncaught.
  writer.closed.catch(() => undefined);
  let waiting: 'client' | 'origin' | 'none' = 'client';
  let fault: string | undefined;
  let clientMs = 0;
  let clientSince: number | undefined;

  const awaitClient = async () => {
    waiting = 'client';
    clientSince = clock.now();
    try {
      return await reader.read();
    } finally {
      clientMs += clock.now() - clientSince;
      clientSince = undefined;
    }
  };
  const clientFailed = (reason: string): UploadEnd => {
    fault = reason;
    // Aborting our side makes the origin request fail now instead of waiting for bytes that will never come.
    writer.abort(new Error(reason)).catch(() => undefined);
    reader.cancel(reason).catch(() => undefined);
    return 'client-failed';
  };
  const originStopped = (): UploadEnd => {
    reader.cancel('the origin stopped reading the body').catch(() => undefined);
    return 'origin-stopped';
  };

  const pump = async (): Promise<UploadEnd> => {
    let received = 0;
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await awaitClient();
      } catch (error) {
        return clientFailed(`request body broken after ${received} bytes: ${String(error)}`);
      }
      if (chunk.done) break;
      received += chunk.value.byteLength;
      if (length !== undefined && received > length)
        return clientFailed(`request body longer than its content-length ${length}`);
      waiting = 'origin';
      try {
        await writer.write(chunk.value);
      } catch {
        return originStopped();
      }
    }
    if (length !== undefined && received < length)
      return clientFailed(`request body ended after ${received} of ${length} bytes`);
    waiting = 'origin';
    try {
      await writer.close();
    } catch {
      return originStopped();
    }
    return 'sent';
  };

  const finished = pump()
    .catch((): UploadEnd => originStopped())
    .finally(() => {
      waiting = 'none';
    });
  return {
    body: pair.readable,
    finished,
    waitingOn: () => waiting,
    clientFault: () => fault,
    clientMs: () => clientMs + (clientSince === undefined ? 0 : clock.now() - clientSince),
  };
}
