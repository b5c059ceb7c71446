import { writeSync } from 'node:fs';
import { connect } from 'node:net';

/** Options of {@link rawHttp}. */
export interface RawHttpOptions {
  /**
   * Like curl's `Expect: 100-continue` wait: a body of {@link LARGE_BODY_BYTES} or more with a
   * `Content-Length` is held back after the head for up to this long, and never sent when the
   * server answers first. A server that refuses a body by its declared length answers at once and
   * closes; writing the body into that closing socket races the server's reset, which destroys
   * the socket with the answer unread. 0 (the default) sends at once.
   */
  holdLargeBodyMs?: number;
}

/** From this size on, {@link RawHttpOptions.holdLargeBodyMs} applies (curl's threshold is 1 MiB). */
export const LARGE_BODY_BYTES = 64 * 1024;

/** A response read off a raw socket; status 0 when the server closed without one. */
export interface RawResponse {
  status: number;
  headers: [string, string][];
  body: Buffer;
  error?: string;
}

/**
 * Sends exact request bytes to 127.0.0.1 over a fresh socket and reads the whole answer. Unlike
 * any HTTP client, it sends header bytes that clients refuse to (control characters, raw
 * non-ASCII, oversized or duplicated headers). The request should say `Connection: close`.
 * Bounded: gives up after `timeoutMs`.
 *
 * @example
 * await rawHttp(port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
 */
export function rawHttp(
  port: number,
  requestBytes: Buffer,
  timeoutMs = 10_000,
  { holdLargeBodyMs = 0 }: RawHttpOptions = {},
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const parsed = parseResponse(Buffer.concat(chunks));
      resolve(
        parsed ?? {
          status: 0,
          headers: [],
          body: Buffer.alloc(0),
          error: error ?? 'closed without a response',
        },
      );
    };
    const timer = setTimeout(() => finish(`no complete answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // workerd keeps the connection open a while despite `Connection: close`: stop at the end
      // of the response rather than waiting for the close.
      if (isComplete(Buffer.concat(chunks))) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // The server may answer (e.g. 400 to an oversized body, 431) and close before it has read
    // everything we send; sendPaced keeps that from losing the answer.
    socket.on('error', (error) => finish(error.message));
    void sendPaced(socket, requestBytes, () => settled || chunks.length > 0, holdLargeBodyMs);
  });
}

/** Bytes per write of a request body: small enough to notice an early answer between slices. */
const SLICE_BYTES = 8 * 1024;

/**
 * Writes the request head, then the body in slices, and stops as soon as `answered()` holds. A
 * large body with a declared length may first be held back (see {@link RawHttpOptions}).
 *
 * The writes go to the socket's file descriptor directly, not through `socket.write`: a server
 * that refuses a body answers and closes while we are still sending, and its reset makes the
 * next write fail. Through `socket.write` that failure destroys the socket, and with it the
 * answer still unread in the kernel. Written to the descriptor, the failure only ends the
 * sending; the socket goes on reading, and gets the answer and then the reset, in that order.
 */
async function sendPaced(
  socket: ReturnType<typeof connect>,
  bytes: Buffer,
  answered: () => boolean,
  holdLargeBodyMs: number,
): Promise<void> {
  await new Promise<void>((resolve) =>
    socket.connecting ? socket.once('connect', () => resolve()) : resolve(),
  );
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  const headEnd = bytes.indexOf('\r\n\r\n');
  const bodyStart = headEnd < 0 ? bytes.length : headEnd + 4;
  const head = bytes.subarray(0, bodyStart);
  const body = bytes.subarray(bodyStart);
  const write = typeof fd === 'number' && fd >= 0 ? writeToDescriptor(fd, answered) : writeToSocket(socket);
  if (!(await write(head))) return;
  const declaresLength = /^content-length:/im.test(head.toString('latin1'));
  if (holdLargeBodyMs > 0 && declaresLength && body.length >= LARGE_BODY_BYTES) {
    const deadline = Date.now() + holdLargeBodyMs;
    while (!answered() && !socket.destroyed && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
  }
  for (let offset = 0; offset < body.length; offset += SLICE_BYTES) {
    await new Promise((resolve) => setImmediate(resolve));
    if (answered() || socket.destroyed) return;
    if (!(await write(body.subarray(offset, offset + SLICE_BYTES)))) return;
  }
}

/** Writes all of a slice to a non-blocking descriptor; false once the peer stopped taking bytes. */
function writeToDescriptor(fd: number, answered: () => boolean): (slice: Buffer) => Promise<boolean> {
  return async (slice) => {
    let offset = 0;
    while (offset < slice.length) {
      try {
        offset += writeSync(fd, slice, offset, slice.length - offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return false;
        // The send buffer is full: wait for the peer to read, unless it has answered meanwhile.
        if (answered()) return false;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    return true;
  };
}

/** The portable fallback: `socket.write`, awaited slice by slice. */
function writeToSocket(socket: ReturnType<typeof connect>): (slice: Buffer) => Promise<boolean> {
  return (slice) => new Promise<boolean>((resolve) => socket.write(slice, (error) => resolve(!error)));
}

function isComplete(bytes: Buffer): boolean {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = bytes.subarray(0, end).toString('latin1');
  const body = bytes.subarray(end + 4);
  if (/^transfer-encoding:.*chunked/im.test(head)) return body.includes('0\r\n\r\n') && dechunkedEnd(body);
  const length = /^content-length:\s*(\d+)/im.exec(head);
  if (length) return body.length >= Number(length[1]);
  return /^HTTP\/1\.[01] (1\d\d|204|304)/.test(head);
}

function dechunkedEnd(raw: Buffer): boolean {
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd < 0) return false;
    const size = parseInt(raw.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return false;
    if (size === 0) return raw.length >= lineEnd + 4;
    offset = lineEnd + 2 + size + 2;
    if (offset > raw.length) return false;
  }
}

function parseResponse(bytes: Buffer): RawResponse | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  if (!status) return undefined;
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  });
  const raw = bytes.subarray(end + 4);
  const chunked = headers.some(([name, value]) => name === 'transfer-encoding' && /chunked/i.test(value));
  return { status, headers, body: chunked ? dechunk(raw) : raw };
}

function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!size) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
