/**
 * Starts and stops the service: the express app and socket.io on one HTTP server, the run manager
 * and the live hub. Bound to 127.0.0.1 unless told otherwise; any other address needs a token.
 * Every HTTP request and socket.io handshake passes the Host/Origin rule (access.ts); with a token,
 * every API request and socket.io connection needs it (auth.ts).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Server as SocketServer } from 'socket.io';
import { memoryLimitMB } from '../evaluator/memory-estimate.js';
import { AccessPolicy } from './access.js';
import { createApp } from './app.js';
import { hasBearerToken, isToken, requiredToken } from './auth.js';
import { LiveHub, type LiveHubOptions } from './live-hub.js';
import { RunManager, type RunEngine } from './run-manager.js';
import { createSearchEngine, loadRealEvaluate } from './search-engine.js';
import { StudyIndex } from './studies.js';

export interface ServeOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly runsDir: string;
  /**
   * Bearer token guarding the API and the live feed (not the dashboard's files); required when
   * `host` is not a loopback address.
   */
  readonly token?: string;
  /** More names (`name` or `name:port`) the Host and Origin headers may give (access.ts). */
  readonly allowedHosts?: readonly string[];
  /** Largest estimated memory (MB) of a real search's evaluations (default memoryLimitMB()). */
  readonly maxMemoryMB?: number;
  /** Real searches started through the API may download their data set; default false. */
  readonly downloadData?: boolean;
  /** Default: the real search engine over `runsDir`. */
  readonly engine?: RunEngine;
  readonly hub?: LiveHubOptions;
  readonly dashboardDir?: string;
  /** Largest JSON body (default 100kb). */
  readonly bodyLimit?: string;
  /**
   * Folders whose sub-folders (or which themselves) are study folders the dashboard lists (default:
   * the folder holding `runsDir`, where `robust-nas study` writes study-<budget>/ by default).
   */
  readonly studiesDirs?: readonly string[];
  /**
   * Why the real evaluator cannot load (undefined: it loads); default: tfjs is loaded once in this
   * process (as the demo does) when the start form first asks.
   */
  readonly realEvaluatorProblem?: () => Promise<string | undefined>;
}

/** Loads tfjs once (as the demo does) and remembers why it failed, if it did. */
function probeRealEvaluator(): () => Promise<string | undefined> {
  let result: Promise<string | undefined> | undefined;
  return () =>
    (result ??= loadRealEvaluate().then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    ));
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
  const access = new AccessPolicy(host, options.allowedHosts ?? []);
  const maxMemoryMB = options.maxMemoryMB ?? memoryLimitMB();
  const engine = options.engine ?? createSearchEngine({ runsDir: options.runsDir });
  const manager = new RunManager(engine);
  const live: { hub?: LiveHub } = {};
  const app = createApp({
    manager,
    access,
    maxMemoryMB,
    ...(options.downloadData !== undefined ? { downloadData: options.downloadData } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(options.dashboardDir !== undefined ? { dashboardDir: options.dashboardDir } : {}),
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    subscriptions: () => live.hub?.subscriptionCount() ?? 0,
    studies: new StudyIndex({
      dirs: options.studiesDirs ?? [dirname(resolve(options.runsDir))],
    }),
    realEvaluatorProblem: options.realEvaluatorProblem ?? probeRealEvaluator(),
  });
  // The app first: socket.io then takes /socket.io/ requests and hands the rest to the app.
  const http = createServer(app);
  const io = new SocketServer(http, {
    serveClient: false,
    maxHttpBufferSize: 100_000,
    pingInterval: 10_000,
    pingTimeout: 8_000,
    // Host and Origin of every handshake (websocket upgrades included: no CORS protects those).
    allowRequest: (req, callback) => {
      const problem = access.requestProblem(req.headers.host, req.headers.origin);
      callback(problem ?? null, problem === undefined);
    },
  });
  if (token !== undefined) {
    io.use((socket, next) => {
      const { auth, headers } = socket.handshake;
      if (isToken(auth?.token, token) || hasBearerToken(headers.authorization, token)) {
        next();
        return;
      }
      next(new Error('unauthorized: this server needs its access token (auth: {token})'));
    });
  }
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
  access.listening(address.port);
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
