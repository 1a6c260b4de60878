/**
 * Values are checked when read back: an accuracy edited to 7.5 (shown as 750 % before) in a run's
 * journal or a study's journal is refused with an error naming the file and the line.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { RunCorruptError } from '../../src/store/errors.js';
import { JOURNAL_FILE, readEntries } from '../../src/study/study-folder.js';
import { makeRecords, makeRunFile } from '../helpers/run-records.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-readcheck-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A journal line as JSON to edit freely (the edits are what the test is about). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Line = Record<string, any>;

function editLine(path: string, line: number, edit: (v: Line) => void) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const v = JSON.parse(lines[line - 1]!) as Line;
  edit(v);
  lines[line - 1] = JSON.stringify(v);
  writeFileSync(path, lines.join('\n'));
}

describe('a run journal read back', () => {
  const cases: [string, (v: Line) => void, RegExp][] = [
    ['an accuracy of 7.5', (v) => (v.scores.clean.accuracy = 7.5), /scores\.clean\.accuracy/],
    ['a negative count', (v) => (v.scores.adversarial[0].n = -3), /scores\.adversarial\.0\.n/],
    ['a fractional count', (v) => (v.scores.clean.n = 10.5), /scores\.clean\.n/],
    ['a finished record without objectives', (v) => delete v.objectives, /scores and objectives/],
    ['a failed record without its reason', (v) => (v.status = 'failed'), /reason/],
  ];
  for (const [what, edit, why] of cases) {
    it(`refuses ${what}, naming the file and line`, async () => {
      const runsDir = join(root, what.replace(/\W+/g, '-'));
      const storage = new FileRunStorage(runsDir);
      const session = await storage.create(makeRunFile('v'));
      for (const r of makeRecords(3)) await session.append(r);
      await session.close();
      editLine(join(runsDir, 'v', 'evaluations.jsonl'), 2, edit);
      const err = await storage.read('v').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunCorruptError);
      expect((err as Error).message).toMatch(/^run v is corrupt \(evaluations\.jsonl line 2: /);
      expect((err as Error).message).toMatch(why);
      await expect(storage.open('v')).rejects.toBeInstanceOf(RunCorruptError);
    });
  }

  it('refuses to store such a record in the first place', async () => {
    const storage = new FileRunStorage(join(root, 'write'));
    const session = await storage.create(makeRunFile('w'));
    const [r] = makeRecords(1);
    const bad = { ...r!, scores: { ...r!.scores, clean: { accuracy: 7.5, stderr: 0, n: 10 } } };
    await expect(session.append(bad as typeof r & object)).rejects.toThrow(/cannot be stored/);
    await session.close();
  });
});

describe('a study journal read back', () => {
  it('refuses an accuracy of 7.5 naming the file and line', async () => {
    const dir = join(root, 'study');
    const scores = {
      clean: { accuracy: 0.75, stderr: 0.01, n: 1000 },
      adversarial: [{ accuracy: 0.4, stderr: 0.01, n: 1000, attack: 'pgd', eps: 0.1 }],
      params: 1000,
      macs: 2000,
      seconds: { train: 1, attack: 1, total: 2 },
      backend: 'wasm',
    };
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const good = JSON.stringify({ id: 'a', scores });
    const bad = JSON.stringify({
      id: 'b',
      scores: { ...scores, clean: { ...scores.clean, accuracy: 7.5 } },
    });
    writeFileSync(join(dir, JOURNAL_FILE), `${good}\n${bad}\n`);
    await expect(readEntries(dir, { readOnly: true })).rejects.toThrow(
      new RegExp(`${join(dir, JOURNAL_FILE)}: line 2 is not a study evaluation: .*accuracy`),
    );
    writeFileSync(join(dir, JOURNAL_FILE), `${good}\n`);
    expect((await readEntries(dir, { readOnly: true })).get('a')).toEqual({ id: 'a', scores });
  });
});
