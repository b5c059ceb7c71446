import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A test server listening on 127.0.0.1. */
export interface LoopbackServer {
  server: Server;
  port: number;
  /** Closes the server and every open connection (keep-alive sockets included). */
  close(): Promise<void>;
}

/**
 * Starts a Node HTTP server on a free loopback port. Keep-alive is short so that closing never
 * waits on idle sockets.
 *
 * @example
 * const { port, close } = await listenOnLoopback(createServer(handler));
 */
export async function listenOnLoopback(server: Server): Promise<LoopbackServer> {
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
