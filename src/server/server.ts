/**
 * Starts and stops the service: the express app and socket.io on one HTTP server, the run manager
 * and the live hub. Bound to 127.0.0.1 unless told otherwise; any other address needs a token.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import { createApp } from './app.js';
import { requiredToken } from './auth.js';
import { LiveHub, type LiveHubOptions } from './live-hub.js';
import { RunManager, type RunEngine } from './run-manager.js';
import { createSearchEngine } from './search-engine.js';

export interface ServeOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly runsDir: string;
  /** Bearer token for changing endpoints; required when `host` is not a loopback address. */
  readonly token?: string;
  /** Default: the real search engine over `runsDir`. */
  readonly engine?: RunEngine;
  readonly hub?: LiveHubOptions;
  readonly dashboardDir?: string;
  /** Largest JSON body (default 100kb). */
  readonly bodyLimit?: string;
}

export interface RunningServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly manager: RunManager;
  readonly hub: LiveHub;
  readonly http: HttpServer;
  readonly io: SocketServer;
  /** Pauses running searches (so they can be resumed), disconnects clients and stops listening. */
  close(): Promise<void>;
}

export function serverUrl(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/`;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = requiredToken(host, options.token);
  const engine = options.engine ?? createSearchEngine({ runsDir: options.runsDir });
  const manager = new RunManager(engine);
  const live: { hub?: LiveHub } = {};
  const app = createApp({
    manager,
    ...(token !== undefined ? { token } : {}),
    ...(options.dashboardDir !== undefined ? { dashboardDir: options.dashboardDir } : {}),
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    subscriptions: () => live.hub?.subscriptionCount() ?? 0,
  });
  // The app first: socket.io then takes /socket.io/ requests and hands the rest to the app.
  const http = createServer(app);
  const io = new SocketServer(http, {
    serveClient: false,
    maxHttpBufferSize: 100_000,
    pingInterval: 10_000,
    pingTimeout: 8_000,
  });
  const liveHub = new LiveHub(io, manager, options.hub);
  live.hub = liveHub;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    http.once('error', onError);
    http.listen(options.port ?? 3000, host, () => {
      http.off('error', onError);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: serverUrl(host, address.port),
    host,
    port: address.port,
    manager,
    hub: liveHub,
    http,
    io,
    close() {
      closing ??= (async () => {
        await manager.close();
        liveHub.close();
        await new Promise<void>((resolve) => {
          io.close(() => resolve());
          http.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
