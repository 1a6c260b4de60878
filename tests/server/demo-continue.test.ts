/**
 * `npm start` (serve --demo) a second time (issue 23): the demo that the first one left paused is
 * continued, not started again from zero; a demo its user stopped is kept and a new one starts; and
 * every time the startup says what it did, why, and how long the demo should take.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plannedEvaluations, searchConfigSchema } from '../../src/core/search-config.js';
import { SearchRun } from '../../src/runner/search-run.js';
import { demoConfig, demoEstimate, startDemo } from '../../src/server/demo.js';
import { startServer } from '../../src/server/server.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

describe('serve --demo, started again', () => {
  it('keeps a stopped demo and starts a new one, then continues that one when started again', async () => {
    const runsDir = await mkdtemp(join(tmpdir(), 'robust-nas-demo-'));
    roots.push(runsDir);
    // A demo its user stopped (before any evaluation).
    const storage = new FileRunStorage(runsDir);
    const stopped = await SearchRun.create(demoConfig('real'), {
      storage,
      runId: 'old-demo',
      // Stopped before it runs: nothing is evaluated.
      evaluate: () => Promise.reject(new Error('not evaluated in this test')),
    });
    await stopped.stop();
    await stopped.close?.();
    await storage.close();

    const first = await startServer({ port: 0, runsDir });
    let newId: string;
    try {
      const demo = await startDemo(first);
      expect(demo.fallback).toBeUndefined();
      expect(demo.action).toBe('started');
      expect(demo.run.id).not.toBe('old-demo');
      expect(demo.reason).toMatch(/^new demo \(the earlier demo old-demo was stopped by its user/);
      const evaluations = plannedEvaluations(searchConfigSchema.parse(demoConfig('real')));
      expect(demo.estimate.evaluations).toBe(evaluations);
      expect(demo.estimate.text).toMatch(
        new RegExp(
          `^about .* on an idle 2-core machine \\(estimate: ${evaluations} evaluations x 16 s measured`,
        ),
      );
      newId = demo.run.id;
    } finally {
      await first.close(); // Ctrl-C: pauses the demo
    }
    const afterFirst = await new FileRunStorage(runsDir).read(newId);
    expect(['paused', 'created', 'interrupted']).toContain(afterFirst.status);
    const done = afterFirst.evaluations.length;

    const second = await startServer({ port: 0, runsDir });
    try {
      const demo = await startDemo(second);
      expect(demo.action).toBe('resumed');
      expect(demo.run.id).toBe(newId);
      expect(demo.reason).toMatch(
        new RegExp(
          `^continuing the ${afterFirst.status} demo ${newId} from ${done} of \\d+ evaluations`,
        ),
      );
      expect(demo.estimate).toEqual(demoEstimate('real', done));
      // No third demo was created.
      const ids = (await second.manager.list()).map((r) => r.id).sort();
      expect(ids).toEqual([newId, 'old-demo'].sort());
    } finally {
      await second.close();
    }
  }, 300_000);
});
