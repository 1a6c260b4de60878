/**
 * A child process that uses FileRunStorage from the build (dist/; tests/global-setup.ts builds it),
 * for the storage tests that need real concurrent processes. Prints one JSON line per step.
 *
 *   node storage-child.mjs <command> <runsDir> <runId> '<json args>'
 *
 * race:  prints {ready} and waits for a line on stdin (the parent's starting shot, sent to every
 *        racer at once), then opens the run; the winner appends the next record of args.records
 *        (a JSON file), holds the run args.holdMs, then closes.
 * hold:  opens the run, marks it running and holds it until killed.
 * write: opens the run, appends every record of args.records (args.gapMs apart), updates run.json
 *        after every args.updateEvery records, marks it completed and closes; with args.stamp,
 *        prints when each append resolved.
 */
import { readFileSync } from 'node:fs';

const [, , command, runsDir, runId, json] = process.argv;
const args = json ? JSON.parse(json) : {};
const { FileRunStorage } = await import(
  new URL('../../dist/store/file-run-storage.js', import.meta.url).href
);
const storage = new FileRunStorage(runsDir, args.options ?? {});
const say = (o) => process.stdout.write(`${JSON.stringify({ pid: process.pid, ...o })}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const records = args.records ? JSON.parse(readFileSync(args.records, 'utf8')) : [];

try {
  if (command === 'race') {
    const go = new Promise((resolve) => process.stdin.once('data', resolve));
    say({ ready: true });
    await go;
    process.stdin.pause();
    const triedAt = performance.timeOrigin + performance.now();
    let session;
    try {
      session = await storage.open(runId);
    } catch (err) {
      say({
        result: err.name === 'RunLockedError' ? 'locked' : 'error',
        message: err.message,
        holderPid: err.pid,
        holderHost: err.host,
        triedAt,
      });
      process.exit(0);
    }
    say({ result: 'won', triedAt });
    const next = records[session.evaluations.length];
    if (next) await session.append(next);
    await sleep(args.holdMs ?? 500);
    await session.close();
    say({ closed: true });
  } else if (command === 'hold') {
    const session = await storage.open(runId);
    await session.update({ status: 'running', pid: process.pid });
    say({ result: 'won' });
    setInterval(() => {}, 1_000);
  } else if (command === 'write') {
    const session = await storage.open(runId);
    say({ result: 'won' });
    await session.update({ status: 'running' });
    for (let i = 0; i < records.length; i++) {
      await session.append(records[i]);
      if (args.stamp)
        say({ appended: records[i].index, at: performance.timeOrigin + performance.now() });
      if ((i + 1) % (args.updateEvery ?? 5) === 0) {
        await session.update({ message: `stored ${i + 1}` });
      }
      if (args.gapMs) await sleep(args.gapMs);
    }
    await session.update({ status: 'completed', message: 'done' });
    await session.close();
    say({ done: true });
  } else {
    throw new Error(`unknown command ${command}`);
  }
} catch (err) {
  say({ result: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
