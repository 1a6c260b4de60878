/**
 * Who may talk to the server, checked on every request (API, dashboard files) and every socket.io
 * handshake, before anything else:
 *
 * - Host (against DNS rebinding): only the names and addresses the server is bound to, with its
 *   port. Bound to a loopback address: localhost, 127.0.0.1, [::1] and the bound address. Bound to
 *   another address: that address. Bound to 0.0.0.0 or ::: every address of the machine's network
 *   interfaces (and localhost). Plus the names the user lists (`--allowed-host NAME[:PORT]`,
 *   ROBUST_NAS_ALLOWED_HOSTS), with the bound port unless one is given.
 * - Origin (against cross-site requests): absent (curl, the CLI: allowed when the Host is), or
 *   exactly `http://<an allowed host>:<its port>`; `https://` too for a listed name given with an
 *   explicit port (a TLS proxy in front). Anything else, `null` included, is refused.
 *
 * Refusals are 403 with a JSON error naming what was refused.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { NextFunction, Request, Response } from 'express';
import { InputError } from '../core/errors.js';
import { isLoopbackHost } from './auth.js';

export const ALLOWED_HOSTS_ENV_VAR = 'ROBUST_NAS_ALLOWED_HOSTS';

/** A host name or address with a port, as it appears in a Host header or an origin. */
interface HostPort {
  /** Lowercase; IPv6 addresses in brackets, canonical (as the WHATWG URL parser writes them). */
  readonly name: string;
  readonly port: number;
}

interface Entry extends HostPort {
  /** A name the user listed with its own port: https origins accepted too. */
  readonly https: boolean;
}

const HOST_CHARS = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/** Parses `name[:port]` (a Host header's syntax) with `defaultPort`, or undefined when malformed. */
function parseHostPort(text: string, defaultPort: number): HostPort | undefined {
  if (!HOST_CHARS.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${text}`);
  } catch {
    return undefined;
  }
  const explicit = /:(\d{1,5})$/.exec(text);
  const port = explicit && !text.endsWith(']') ? Number(explicit[1]) : defaultPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { name: url.hostname.toLowerCase(), port };
}

/** An address as a Host header writes it: IPv6 in brackets, without a zone index. */
function addressName(address: string): string {
  const plain = address.split('%')[0] as string;
  const text = isIP(plain) === 6 ? `[${plain}]` : plain;
  return parseHostPort(text, 1)?.name ?? text.toLowerCase();
}

function interfaceNames(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined)
    .map((a) => addressName(a.address));
}

function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '';
}

/**
 * The names `--allowed-host` (repeatable) and ROBUST_NAS_ALLOWED_HOSTS (comma-separated) give, each
 * `name` or `name:port`, lowercased; InputError naming a malformed one.
 */
export function allowedHostsFrom(flags: readonly string[], env: string | undefined): string[] {
  const all = [...flags, ...(env ?? '').split(',')].map((s) => s.trim()).filter((s) => s !== '');
  return all.map((entry) => {
    if (!parseHostPort(entry, 80)) {
      throw new InputError(
        `--allowed-host / ${ALLOWED_HOSTS_ENV_VAR}: '${entry}' is not a host name or address with an optional :port`,
      );
    }
    return entry.toLowerCase();
  });
}

/** The Host and Origin rule of a server bound to `bindHost` (see the file comment). */
export class AccessPolicy {
  private port: number | undefined;
  private entries: Entry[] = [];

  constructor(
    private readonly bindHost: string,
    private readonly allowedHosts: readonly string[] = [],
  ) {}

  /** Sets the port the server listens on (known once it listens: port 0 picks one). */
  listening(port: number): void {
    this.port = port;
    this.entries = this.build(port);
  }

  private build(port: number): Entry[] {
    const names = new Set<string>();
    const bind = this.bindHost.trim();
    if (isLoopbackHost(bind)) {
      for (const n of ['localhost', '127.0.0.1', '[::1]', addressName(bind)]) names.add(n);
    } else if (isUnspecified(bind)) {
      names.add('localhost');
      for (const n of interfaceNames()) names.add(n);
    } else {
      names.add(addressName(bind));
    }
    const entries: Entry[] = [...names].map((name) => ({ name, port, https: false }));
    for (const allowed of this.allowedHosts) {
      const hp = parseHostPort(allowed, port);
      if (!hp) continue;
      entries.push({ ...hp, https: /:\d+$/.test(allowed) && !allowed.endsWith(']') });
    }
    return entries;
  }

  private find(hp: HostPort): Entry | undefined {
    const hit = (list: Entry[]) => list.find((e) => e.name === hp.name && e.port === hp.port);
    const found = hit(this.entries);
    if (found || this.port === undefined || !isUnspecified(this.bindHost.trim())) return found;
    // Interfaces come and go (a laptop changing networks): look again before refusing.
    this.entries = this.build(this.port);
    return hit(this.entries);
  }

  /** Why a request with this Host header is refused, or undefined when it is allowed. */
  hostProblem(header: string | undefined): string | undefined {
    if (this.port === undefined) return 'the server is not listening yet';
    const hp = header === undefined ? undefined : parseHostPort(header.trim(), 80);
    if (hp && this.find(hp)) return undefined;
    const refused = `host ${header === undefined ? '(none)' : `'${header.slice(0, 100)}'`} refused`;
    // Bound to every interface: the list would tell any client the machine's addresses. Say less.
    if (isUnspecified(this.bindHost.trim())) {
      return `${refused}: not a name or address of this server (its operator can add one with --allowed-host NAME)`;
    }
    return (
      `${refused}: this server answers to ` +
      `${this.describe().join(', ')} (add --allowed-host NAME to accept another name)`
    );
  }

  /** Why a request from this Origin is refused, or undefined when it is allowed. */
  originProblem(origin: string): string | undefined {
    if (this.allowsOrigin(origin)) return undefined;
    return `cross-origin request refused: origin '${origin}' is not this server's own`;
  }

  allowsHost(header: string | undefined): boolean {
    return this.hostProblem(header) === undefined;
  }

  allowsOrigin(origin: string): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    const bare = url.username === '' && url.password === '' && url.pathname === '/';
    if (!bare || url.search !== '' || url.hash !== '') return false;
    const https = url.protocol === 'https:';
    if (!https && url.protocol !== 'http:') return false;
    const port = url.port === '' ? (https ? 443 : 80) : Number(url.port);
    const entry = this.find({ name: url.hostname.toLowerCase(), port });
    return entry !== undefined && (!https || entry.https);
  }

  /** The allowed `name:port` pairs, for messages. */
  describe(): string[] {
    return this.entries.map((e) => `${e.name}:${e.port}`);
  }

  /** Express middleware: 403 unless Host (and Origin, when sent) are allowed. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const problem = this.requestProblem(req.headers.host, req.headers.origin);
      if (problem === undefined) {
        next();
        return;
      }
      res.status(403).json({ error: problem });
    };
  }

  /** Host, then Origin: the first problem, or undefined. */
  requestProblem(host: string | undefined, origin: string | undefined): string | undefined {
    return (
      this.hostProblem(host) ?? (origin === undefined ? undefined : this.originProblem(origin))
    );
  }
}

/** The policy of a server bound to `bindHost` and listening on `port` (for tests and tools). */
export function hostAllowList(
  bindHost: string,
  port: number,
  allowedHosts: readonly string[],
): AccessPolicy {
  const policy = new AccessPolicy(bindHost, allowedHosts);
  policy.listening(port);
  return policy;
}
