/**
 * A full disk (ENOSPC, injected into real processes and real file handles): the error names the
 * file and its disk; a run paused by it exits 75 (EX_TEMPFAIL) with the reason, its status stored
 * as 'paused', no temp file left; resumed once there is room, it ends as the uninterrupted run.
 * A study's record names the path too. Temp files of run.json left by a crash are removed at the
 * run's next start (its first write).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { DiskWriteError, diskOf } from '../../src/store/disk-errors.js';
import { RunCatalogue } from '../../src/store/run-catalogue.js';
import { StudyFolder, type StudySettings } from '../../src/study/study-folder.js';
import { CLI_PATH } from '../helpers/cli.js';
import { makeRecords, makeRunFile } from '../helpers/run-records.js';
import { comparableRun } from '../helpers/run-compare.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-enospc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const PRELOAD = resolve(import.meta.dirname, '../helpers/enospc-preload.mjs');

const config = { population: 4, generations: 3, seed: 11 };

function cli(args: string[], env: NodeJS.ProcessEnv = {}, preload = false) {
  const r = spawnSync(
    process.execPath,
    [...(preload ? ['--import', PRELOAD] : []), CLI_PATH, ...args],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  );
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('a full disk', () => {
  it('pauses a run with exit 75 naming the file and its disk; resumed, it ends as the uninterrupted run', async () => {
    const runsDir = join(root, 'runs');
    const reference = join(root, 'reference');
    for (const [dir, id] of [
      [runsDir, 'full'],
      [reference, 'full'],
    ] as const) {
      const s = await new FileRunStorage(dir).create(makeRunFile(id, config));
      await s.update({ status: 'paused' });
      await s.close();
    }
    expect(cli(['resume', 'full', '--runs-dir', reference]).code).toBe(0);

    // The disk fills after 5 evaluations were stored.
    const r = cli(
      ['resume', 'full', '--runs-dir', runsDir],
      { ROBUST_NAS_TEST_ENOSPC_AFTER: '5' },
      true,
    );
    const journal = join(runsDir, 'full', 'evaluations.jsonl');
    expect(r.code).toBe(75);
    expect(r.stderr).toContain(`robust-nas: run full paused: `);
    expect(r.stderr).toContain(`cannot write ${journal}: the disk `);
    expect(r.stderr).toContain(`is full (ENOSPC`);
    const disk = diskOf(journal);
    if (disk) expect(r.stderr).toContain(`mounted at ${disk.mount}`);
    const stored = await new RunCatalogue(runsDir).read('full');
    expect(stored.status).toBe('paused');
    expect(stored.evaluations).toHaveLength(5);
    expect(readdirSync(join(runsDir, 'full')).sort()).toEqual(['evaluations.jsonl', 'run.json']);

    // Room again: resumed, the run ends exactly as the one never interrupted.
    expect(cli(['resume', 'full', '--runs-dir', runsDir]).code).toBe(0);
    expect(await comparableRun(runsDir, 'full')).toEqual(await comparableRun(reference, 'full'));
  });

  it('a failed run.json write names the file, leaves no temp file, keeps the old run.json', async () => {
    const runsDir = join(root, 'runfile');
    const storage = new FileRunStorage(runsDir);
    await (await storage.create(makeRunFile('r'))).close();
    const session = await storage.open('r');
    await session.update({ message: 'before' });
    // The writer's temp file leads to a device that is always full (Linux's /dev/full).
    const tmp = join(runsDir, 'r', '.run.json.tmp');
    symlinkSync('/dev/full', tmp);
    const err = await session.update({ message: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskWriteError);
    expect(err).toMatchObject({ code: 'ENOSPC', path: join(runsDir, 'r', 'run.json') });
    expect((err as Error).message).toMatch(
      /^cannot write .*run\.json: the disk .* is full \(ENOSPC/,
    );
    expect(existsSync(tmp)).toBe(false);
    expect((await storage.read('r')).file.message).toBe('before');
    await session.update({ message: 'room again' });
    await session.close();
    expect((await storage.read('r')).file.message).toBe('room again');
  });

  it('temp files a crash left are removed at the next start (its first write; opening alone touches nothing)', async () => {
    const runsDir = join(root, 'temps');
    const storage = new FileRunStorage(runsDir);
    await (await storage.create(makeRunFile('t'))).close();
    writeFileSync(join(runsDir, 't', '.run.json.tmp'), '{"half');
    writeFileSync(join(runsDir, 't', '.run.json.123.4.tmp'), '{"half');
    const session = await storage.open('t');
    await session.update({ status: 'running' });
    expect(readdirSync(join(runsDir, 't')).sort()).toEqual([
      'evaluations.jsonl',
      'run.json',
      'run.lock',
    ]);
    await session.close();
  });

  it("a study's record names the journal's path when the disk is full", async () => {
    const dir = join(root, 'study');
    const settings: StudySettings = {
      format: 'robust-nas-study',
      version: 1,
      robustNasVersion: 'test',
      budgetName: 'tiny',
      budget: {},
      datasets: ['mnist'],
      seeds: 1,
      dataDirs: {},
    };
    const folder = await StudyFolder.open(dir, settings);
    try {
      await folder.record({ id: 'w', failed: 'x' });
      rmSync(join(dir, 'journal.jsonl'));
      symlinkSync('/dev/full', join(dir, 'journal.jsonl'));
      const full = await folder.record({ id: 'v', failed: 'y' }).catch((e: unknown) => e);
      expect(full).toBeInstanceOf(DiskWriteError);
      expect((full as Error).message).toMatch(
        new RegExp(`^cannot write ${join(dir, 'journal.jsonl')}: the disk .* is full \\(ENOSPC`),
      );
      expect(folder.entries().has('v')).toBe(false);
    } finally {
      rmSync(join(dir, 'journal.jsonl'), { force: true });
      await folder.close();
    }
  });
});

// makeRecords is the fixture other store tests share; a record it makes passes the read checks.
it('records made by the shared fixture pass the checks on read', async () => {
  const runsDir = join(root, 'fixture');
  const storage = new FileRunStorage(runsDir);
  const session = await storage.create(makeRunFile('f'));
  for (const r of makeRecords(3)) await session.append(r);
  await session.close();
  expect((await storage.read('f')).evaluations).toHaveLength(3);
});
