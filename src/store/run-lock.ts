/**
 * The lock that makes one process the only writer of a run folder, held for a session's whole life.
 *
 * Why not proper-lockfile: it judges a holder only by the age of the lock's mtime, so a takeover
 * after a crash waits for the stale time (2 s at least), and a live holder whose event loop is
 * blocked longer than that (the CLI trains networks with tfjs in its main thread) would be judged
 * dead and robbed of its lock while it still writes. It also cannot say who holds a lock. On one
 * host we can know for sure whether the holder lives (its pid, boot id and process start time),
 * so this module uses that, and mtime age only for a holder on another host.
 *
 * The lock is the file `run.lock` in the run folder, holding the owner as JSON {pid, host, token,
 * bootId, started, since}:
 * - Acquiring writes the owner to a private temp file and hard-links it to `run.lock`: link() fails
 *   with EEXIST when the lock exists, so of two processes that try at the same instant exactly one
 *   wins, and the lock's content is complete the moment it exists (where the file system has no
 *   hard links, an exclusive create `open(…, 'wx')` is used; a reader then treats an unreadable
 *   lock younger than the stale time as held).
 * - The loser reads the owner and judges it: on this host and in this PID namespace it lives while
 *   its pid exists, is not a zombie, has the recorded start time (no pid reuse) and the boot id is
 *   the same (no reboot); in this very process, while the token is held here. A pid means nothing
 *   across PID namespaces (two containers sharing a hostname, a boot id and a runs volume: the
 *   holder's pid is not visible, or is another process), nor on another host (a shared folder):
 *   there the owner lives while it refreshes the lock's mtime (heartbeat every `heartbeatMs`) and
 *   is dead only after `staleMs` without one (the clocks must agree to well within `staleMs`; the
 *   default 30 s also covers a holder whose event loop a long training step blocks). The owner
 *   records its PID namespace (`pidNs`, the link /proc/self/ns/pid); a lock without one (written
 *   by an older robust-nas, or off Linux) is judged by its pid as before. A live owner:
 *   RunLockedError naming its pid and host.
 * - A dead owner's lock is removed only by the process that holds the takeover guard named after
 *   the dead token, `run.lock.takeover.<token>`, itself taken with link(); the guard holder reads
 *   the lock again and removes it only if it still holds that dead token, then everyone retries the
 *   link. Because tokens are never reused, a guard can never be confused with one for a later lock
 *   (no ABA): two takers can never both remove and replace a lock. A guard whose holder died in
 *   the few milliseconds of a takeover is itself taken over the same way, by a guard named after
 *   both tokens. A same-host takeover after SIGKILL therefore happens at once.
 * - The holder touches the lock every `heartbeatMs` and checks before every write that `run.lock`
 *   is still its own file (same inode): a holder wrongly judged dead (a frozen process on another
 *   host) refuses to write instead of writing beside the new holder.
 * - Releasing removes `run.lock` (if still its own), so a closed session leaves the folder's file
 *   list as it found it. A successful acquisition removes leftover guards and temp lock files.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { link, open, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunLockedError, RunNotFoundError } from './errors.js';

export const LOCK_FILE = 'run.lock';
const TAKEOVER_PREFIX = `${LOCK_FILE}.takeover.`;
const TEMP_LOCK = /^run\.lock\.[0-9a-f]+\.tmp$/;

export interface LockOptions {
  /** The host name this process records and compares (default: os.hostname()). */
  readonly host?: string;
  /** How often a holder refreshes its lock's mtime (default 5 000 ms). */
  readonly heartbeatMs?: number;
  /**
   * After how long without a refresh a holder on another host or in another PID namespace is
   * considered dead (default 30 000 ms).
   */
  readonly staleMs?: number;
  /** This process's PID namespace (default: the link /proc/self/ns/pid; tests inject another). */
  readonly pidNamespace?: string | null;
  /** Whether a pid is visible from here (default: kill(pid, 0); tests inject "not visible"). */
  readonly processVisible?: (pid: number) => boolean;
}

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  /** Linux boot id: a lock from before a reboot is dead. */
  readonly bootId?: string;
  /** Start time of the process (Linux, clock ticks since boot): a reused pid is not the owner. */
  readonly started?: string;
  /** The PID namespace the pid belongs to (Linux: "pid:[4026531836]"); absent off Linux. */
  readonly pidNs?: string;
  /** When the lock was taken (ISO). */
  readonly since: string;
}

/** Tokens of the locks held by this process (a second session in the same process is refused). */
const heldHere = new Set<string>();

let cachedBootId: string | undefined | null = null;
function bootId(): string | undefined {
  if (cachedBootId === null) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      cachedBootId = undefined;
    }
  }
  return cachedBootId;
}

let cachedPidNs: string | undefined | null = null;
/** The PID namespace of this process (Linux), undefined where /proc does not tell. */
export function ownPidNamespace(): string | undefined {
  if (cachedPidNs === null) {
    try {
      cachedPidNs = readlinkSync('/proc/self/ns/pid') || undefined;
    } catch {
      cachedPidNs = undefined;
    }
  }
  return cachedPidNs;
}

/** State and start time of a process from /proc (Linux); undefined elsewhere or when it is gone. */
function procStat(pid: number): { state: string; started: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ..." where comm may hold spaces and parentheses; field 22 is starttime.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const started = fields[19];
  return state !== undefined && started !== undefined ? { state, started } : undefined;
}

const ownStart = (() => {
  let v: string | undefined | null = null;
  return () => {
    if (v === null) v = procStat(process.pid)?.started;
    return v;
  };
})();

/** True when a process with that pid exists on this machine (EPERM: it exists, not ours). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What a lock file says: its owner (undefined when unreadable), inode and mtime. */
interface LockState {
  readonly owner?: LockOwner;
  readonly ino: number;
  readonly mtimeMs: number;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (
      typeof v.pid === 'number' &&
      typeof v.host === 'string' &&
      typeof v.token === 'string' &&
      /^[0-9a-f]+$/.test(v.token)
    ) {
      return v as LockOwner;
    }
  } catch {
    // unreadable: being written (no hard links) or garbage
  }
  return undefined;
}

async function readLockState(path: string): Promise<LockState | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const s = await fh.stat();
    const owner = parseOwner(await fh.readFile('utf8'));
    return { ...(owner ? { owner } : {}), ino: s.ino, mtimeMs: s.mtimeMs };
  } finally {
    await fh.close();
  }
}

export class LockJudge {
  readonly host: string;
  readonly heartbeatMs: number;
  readonly staleMs: number;
  readonly pidNs: string | undefined;
  private readonly visible: (pid: number) => boolean;

  constructor(options: LockOptions = {}) {
    this.host = options.host ?? hostname();
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.staleMs = options.staleMs ?? 30_000;
    this.pidNs =
      options.pidNamespace === undefined ? ownPidNamespace() : (options.pidNamespace ?? undefined);
    this.visible = options.processVisible ?? processAlive;
  }

  /** True while the lock's heartbeat (its mtime) is younger than the stale bound. */
  fresh(state: LockState): boolean {
    return Date.now() - state.mtimeMs < this.staleMs;
  }

  /**
   * Whether the owner's pid can be judged from here: same host, and same PID namespace (an owner
   * that recorded none, from an older robust-nas or off Linux, is judged by its pid as before).
   */
  pidMeaningful(o: LockOwner): boolean {
    if (o.host !== this.host) return false;
    if (o.pidNs === undefined) return true;
    return this.pidNs !== undefined && o.pidNs === this.pidNs;
  }

  /** Whether the owner recorded in a lock (or guard) file still holds it. */
  alive(state: LockState): boolean {
    const o = state.owner;
    if (!o) return this.fresh(state);
    const boot = bootId();
    if (o.host === this.host && o.bootId !== undefined && boot !== undefined && o.bootId !== boot) {
      return false;
    }
    // Another host or another PID namespace: its pid tells nothing here (not visible, or another
    // process); the heartbeat alone does.
    if (!this.pidMeaningful(o)) return this.fresh(state);
    if (o.pid === process.pid) return heldHere.has(o.token);
    if (!this.visible(o.pid)) return false;
    const ps = procStat(o.pid);
    if (ps) {
      if (ps.state === 'Z' || ps.state === 'X') return false;
      if (o.started !== undefined && ps.started !== o.started) return false;
    }
    return true;
  }

  /** The live owner of the run folder's lock, or undefined when nobody holds it. */
  async holder(dir: string): Promise<LockOwner | undefined> {
    const state = await readLockState(join(dir, LOCK_FILE));
    if (!state || !this.alive(state)) return undefined;
    return state.owner ?? { pid: 0, host: 'unknown', token: '0', since: '' };
  }
}

/** A held lock on one run folder. */
export class RunLock {
  private released = false;
  private timer: NodeJS.Timeout | undefined;
  /** Set when the lock file is no longer ours (removed, or taken by another process). */
  private lost: string | undefined;

  private constructor(
    readonly dir: string,
    readonly runId: string,
    readonly owner: LockOwner,
    private readonly ino: number,
    private readonly judge: LockJudge,
  ) {
    heldHere.add(owner.token);
    this.timer = setInterval(() => void this.heartbeat(), judge.heartbeatMs);
    this.timer.unref();
  }

  get path(): string {
    return join(this.dir, LOCK_FILE);
  }

  /**
   * Takes the lock of the run folder `dir`: RunLockedError when a live process (or another session
   * of this process) holds it, RunNotFoundError when the folder does not exist.
   */
  static async acquire(dir: string, runId: string, judge: LockJudge): Promise<RunLock> {
    const owner: LockOwner = {
      pid: process.pid,
      host: judge.host,
      token: randomBytes(8).toString('hex'),
      ...(bootId() !== undefined ? { bootId: bootId() } : {}),
      ...(ownStart() !== undefined ? { started: ownStart() } : {}),
      ...(judge.pidNs !== undefined ? { pidNs: judge.pidNs } : {}),
      since: new Date().toISOString(),
    };
    const lockPath = join(dir, LOCK_FILE);
    const tmp = join(dir, `${LOCK_FILE}.${owner.token}.tmp`);
    const text = `${JSON.stringify(owner)}\n`;
    // Held from the first link on: another session of this process that reads our lock (or
    // takeover guard) between the link and the end of this function must see it alive.
    heldHere.add(owner.token);
    let lock: RunLock | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        if (attempt >= 50) {
          throw new Error(
            `could not take the lock of run ${runId} (${lockPath}): it keeps changing`,
          );
        }
        const made = await exclusiveCreate(lockPath, tmp, text, runId);
        if (made) break;
        const state = await readLockState(lockPath);
        if (!state) continue; // released meanwhile: try again
        if (judge.alive(state)) throw lockedError(runId, state.owner, judge);
        await takeOver(dir, runId, state, owner, tmp, text, judge);
      }
      await rm(tmp, { force: true });
      lock = new RunLock(dir, runId, owner, (await stat(lockPath)).ino, judge);
    } finally {
      if (!lock) {
        heldHere.delete(owner.token);
        await rm(tmp, { force: true });
      }
    }
    await cleanLockLeftovers(dir);
    return lock;
  }

  /**
   * Throws unless this process still holds the lock (call before every write). Also renews the
   * heartbeat when the timer could not (an event loop a long training step kept busy).
   */
  async check(): Promise<void> {
    if (this.released) throw new Error(`run ${this.runId}: the session is closed`);
    if (!this.lost) {
      // Inode and token: a lock removed and written again may reuse the inode number.
      const s = await readLockState(this.path);
      if (!s) this.lost = 'its lock file was removed';
      else if (s.ino !== this.ino || s.owner?.token !== this.owner.token) {
        this.lost = 'another process replaced its lock';
      } else if (Date.now() - s.mtimeMs >= this.judge.heartbeatMs) {
        const now = new Date();
        await utimes(this.path, now, now).catch(() => {});
      }
    }
    if (this.lost) {
      const state = await readLockState(this.path).catch(() => undefined);
      if (state?.owner && state.owner.token !== this.owner.token) {
        throw lockedError(this.runId, state.owner);
      }
      throw new Error(
        `run ${this.runId}: this process no longer holds the run (${this.lost}); nothing was written`,
      );
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.released || this.lost) return;
    try {
      const s = await stat(this.path);
      if (s.ino !== this.ino) {
        this.lost = 'another process replaced its lock';
        return;
      }
      const now = new Date();
      await utimes(this.path, now, now);
    } catch (err) {
      if (errno(err) === 'ENOENT') this.lost = 'its lock file was removed';
      // Other errors (a full disk, a network folder gone for a moment): try again next beat.
    }
  }

  /** Releases the lock (idempotent): removes run.lock if it is still this process's. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    heldHere.delete(this.owner.token);
    try {
      const s = await stat(this.path);
      if (s.ino === this.ino) await rm(this.path, { force: true });
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
    }
  }
}

function lockedError(
  runId: string,
  owner: LockOwner | undefined,
  judge?: LockJudge,
): RunLockedError {
  const foreignNs =
    owner?.pidNs !== undefined &&
    judge !== undefined &&
    owner.host === judge.host &&
    !judge.pidMeaningful(owner);
  return owner
    ? new RunLockedError(
        runId,
        owner.pid,
        owner.host,
        foreignNs ? `in another PID namespace (${owner.pidNs}), alive by its heartbeat` : undefined,
      )
    : new RunLockedError(runId, 0, 'unknown (its lock file is being written)');
}

/**
 * Creates `path` exclusively with `text`: true when created, false when it exists. Uses a hard
 * link of the prepared temp file (atomic, complete content) where the file system allows it.
 */
async function exclusiveCreate(
  path: string,
  tmp: string,
  text: string,
  runId: string,
): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await link(tmp, path);
      return true;
    } catch (err) {
      const code = errno(err);
      if (code === 'EEXIST') return false;
      if (code === 'ENOENT') {
        // Our temp file is not there (first attempt, or removed by a cleaner): write it.
        try {
          await writeFile(tmp, text, { flag: 'w' });
        } catch (e) {
          if (errno(e) === 'ENOENT') throw new RunNotFoundError(runId);
          throw e;
        }
        continue;
      }
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') {
        return exclusiveOpen(path, text);
      }
      throw err;
    }
  }
  throw new Error(`could not write the lock file ${path}`);
}

/** Exclusive create without hard links: the content is written right after the create. */
async function exclusiveOpen(path: string, text: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx');
  } catch (err) {
    if (errno(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(text, 'utf8');
  } finally {
    await fh.close();
  }
  return true;
}

/**
 * Removes the dead lock `dead` if it is still in place, serialised by a guard named after its token
 * (see the top of this file). Returns when the caller should try to create the lock again.
 */
async function takeOver(
  dir: string,
  runId: string,
  dead: LockState,
  me: LockOwner,
  tmp: string,
  text: string,
  judge: LockJudge,
): Promise<void> {
  const deadToken = dead.owner?.token ?? `ino${dead.ino}`;
  const chain = [deadToken];
  const deadline = Date.now() + Math.max(2_000, judge.staleMs / 10);
  for (;;) {
    const guard = join(dir, `${TAKEOVER_PREFIX}${chain.join('.')}`);
    if (await exclusiveCreate(guard, tmp, text, runId)) {
      try {
        const now = await readLockState(join(dir, LOCK_FILE));
        const same = now && (now.owner?.token ?? `ino${now.ino}`) === deadToken;
        if (same && now.ino === dead.ino) await rm(join(dir, LOCK_FILE), { force: true });
      } finally {
        await rm(guard, { force: true });
      }
      return;
    }
    const g = await readLockState(guard);
    if (!g) continue; // its holder finished: try the guard again (it then finds the lock replaced)
    if (g.owner?.token === me.token) return;
    if (judge.alive(g)) {
      // Another process is taking over right now (a matter of milliseconds): wait for it.
      if (Date.now() > deadline) throw lockedError(runId, g.owner);
      await sleep(10);
      continue;
    }
    // The guard's holder died during its takeover: take over the guard itself.
    chain.push(g.owner?.token ?? `ino${g.ino}`);
    if (chain.length > 8) {
      throw new Error(`could not take over the lock of run ${runId}: too many dead takers`);
    }
  }
}

/** Removes takeover guards and temp lock files that no process needs once the lock is held. */
async function cleanLockLeftovers(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((n) => n.startsWith(TAKEOVER_PREFIX) || TEMP_LOCK.test(n))
      .map((n) => rm(join(dir, n), { force: true }).catch(() => {})),
  );
}

/** Reads the owner recorded in a run folder's lock, live or not (for messages and tests). */
export async function readLockOwner(dir: string): Promise<LockOwner | undefined> {
  try {
    return parseOwner(await readFile(join(dir, LOCK_FILE), 'utf8'));
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  }
}
