import { connect } from 'node:net';

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
export function rawHttp(port: number, requestBytes: Buffer, timeoutMs = 10_000): Promise<RawResponse> {
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
    // everything we send. A write into a socket the server has reset fails, and Node then
    // destroys the socket with the answer unread in the kernel: so, like a real HTTP client,
    // the body goes out a slice at a time and stops once the server has started answering.
    socket.on('error', (error) => finish(error.message));
    void sendPaced(socket, requestBytes, () => settled || chunks.length > 0);
  });
}

/** Bytes per write of a request body: small enough to notice an early answer between slices. */
const SLICE_BYTES = 8 * 1024;

/**
 * Writes the request head at once, then the body in slices, each after the previous one was
 * handed to the kernel and after one turn of the event loop's poll phase (setImmediate), so any
 * answer already received is read before the next write. Stops as soon as `answered()` holds.
 */
async function sendPaced(
  socket: ReturnType<typeof connect>,
  bytes: Buffer,
  answered: () => boolean,
): Promise<void> {
  const headEnd = bytes.indexOf('\r\n\r\n');
  const bodyStart = headEnd < 0 ? bytes.length : headEnd + 4;
  const slices = [bytes.subarray(0, bodyStart)];
  for (let offset = bodyStart; offset < bytes.length; offset += SLICE_BYTES)
    slices.push(bytes.subarray(offset, offset + SLICE_BYTES));
  for (const slice of slices) {
    if (answered() || socket.destroyed) return;
    const written = await new Promise<boolean>((resolve) => socket.write(slice, (error) => resolve(!error)));
    if (!written) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
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
