/**
 * What storage costs the search: appending one evaluation to a run that holds 1 000 (goal: under
 * 5 ms; each append is fdatasynced), and how soon a watcher in the same process hears of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { makeRecords, makeRunFile } from '../helpers/run-records.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-perf-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const p95 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length * 0.95)]!;

describe('storage cost', () => {
  it('appends one evaluation to a run of 1 000 in well under 5 ms; a watcher hears it at once', async () => {
    const storage = new FileRunStorage(root);
    const session = await storage.create(makeRunFile('p'));
    const records = makeRecords(1_100);
    for (const r of records.slice(0, 1_000)) await session.append(r);
    let heardAt = 0;
    let heard = 0;
    storage.watch('p', (c) => {
      if (c.type === 'evaluations') {
        heardAt = performance.now();
        heard += c.evaluations.length;
      }
    });
    const append: number[] = [];
    const notify: number[] = [];
    for (const r of records.slice(1_000)) {
      const t0 = performance.now();
      await session.append(r);
      const t1 = performance.now();
      append.push(t1 - t0);
      // From the start of the append to the listener's call (which follows the fdatasync).
      notify.push(heardAt - t0);
    }
    const update: number[] = [];
    for (let g = 0; g < 20; g++) {
      const t0 = performance.now();
      await session.update({
        generations: Array.from({ length: 50 }, (_, k) => ({
          generation: k,
          population: Array.from({ length: 20 }, (_, i) => k * 20 + i),
          front: [k * 20],
          hypervolume: 0.5,
          evaluations: (k + 1) * 20,
        })),
      });
      update.push(performance.now() - t0);
    }
    const t0 = performance.now();
    const after = await storage.readAfter('p', 1_090);
    const readAfterMs = performance.now() - t0;
    expect(after.evaluations.map((e) => e.index)).toEqual(
      [...Array(10).keys()].map((k) => k + 1_090),
    );
    await session.close();
    await storage.close();
    expect(heard).toBe(100);
    expect(median(append)).toBeLessThan(5);
    const f = (v: number) => v.toFixed(3);
    console.log(
      `append to a run of 1000 (100 appends): median ${f(median(append))} ms, p95 ${f(p95(append))} ms; ` +
        `in-process watch: listener called ${f(median(notify))} ms (median) after the append began, ` +
        `${f(median(notify.map((n, i) => append[i]! - n)))} ms before it resolved; ` +
        `run.json update (50 generations): median ${f(median(update))} ms; ` +
        `readAfter(1090) of 1100 (offsets remembered): ${f(readAfterMs)} ms`,
    );
  });
});
