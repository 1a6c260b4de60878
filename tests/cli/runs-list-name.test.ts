/**
 * `robust-nas runs list | show | front` say what a run is (issue 23): a NAME column in the list, the
 * whole configuration in `show`, and in `front` whether each member's clean accuracy is above chance
 * (a real run; '-' for a surrogate one, whose scores are not accuracies).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chanceChecks } from '../../src/core/run-facts.js';
import { loadRealEvaluate } from '../../src/placement/load-real-evaluator.js';
import { SearchRun } from '../../src/runner/search-run.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { RunCatalogue } from '../../src/store/run-catalogue.js';
import { runCommand } from '../helpers/cli.js';
import { TINY_EVALUATION } from '../helpers/tiny-evaluation.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-runs-name-'));
const runs = join(root, 'runs');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SURROGATE = {
  population: 4,
  generations: 2,
  seed: 2,
  evaluator: 'surrogate' as const,
  resampling: { initialSeeds: 1, maxSeeds: 1 },
};

beforeAll(async () => {
  const storage = new FileRunStorage(runs);
  const named = await SearchRun.create(
    { ...SURROGATE, name: 'my named search' },
    { storage, runId: 'named1' },
  );
  await named.run();
  await named.close?.();
  const unnamed = await SearchRun.create(SURROGATE, { storage, runId: 'plain1' });
  await unnamed.run();
  await unnamed.close?.();
  // A real run of the smallest network: its members' clean accuracies against chance.
  const real = await SearchRun.create(
    {
      ...SURROGATE,
      population: 2,
      generations: 1,
      evaluator: 'real',
      name: 'tiny real',
      evaluation: { ...TINY_EVALUATION, attacks: [{ name: 'pgd', eps: 0.1, steps: 2 }] },
    },
    { storage, runId: 'real1', evaluate: await loadRealEvaluate() },
  );
  await real.run();
  await real.close?.();
  await storage.close();
}, 300_000);

describe('robust-nas runs: names, configuration, chance', () => {
  it('runs list has a NAME column', () => {
    const r = runCommand(['runs', 'list', '--runs-dir', runs]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+GENERATION\s+EVALUATIONS/);
    expect(r.stdout).toMatch(/named1\s+my named search\s+completed\s+2\/2\s+8\/8/);
    expect(r.stdout).toMatch(/plain1\s+-\s+completed/);
    expect(r.stdout).toMatch(/real1\s+tiny real\s+completed/);
    const json = JSON.parse(runCommand(['runs', 'list', '--runs-dir', runs, '--json']).stdout);
    expect(json.find((x: { id: string }) => x.id === 'named1').name).toBe('my named search');
  });

  it('runs show prints the whole configuration', () => {
    const r = runCommand(['runs', 'show', 'real1', '--runs-dir', runs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^run real1 \(tiny real\): completed/);
    for (const line of [
      /name\s+tiny real/,
      /evaluator\s+real \(each candidate trained and attacked\)/,
      /data set\s+synthetic/,
      /network\s+2 channels, 1 cells, 4 nodes per cell/,
      /training\s+1 epoch on 64 images, batch 32, lr 0\.025/,
      /scored on\s+32 validation images/,
      /attacks\s+PGD ε=0\.1, 2 steps/,
      /seeds\s+search seed 2; 1 seed per new candidate/,
      /population\s+2, nsga2/,
      /generations\s+1 \(numbered 0 to 0\)/,
    ]) {
      expect(r.stdout).toMatch(line);
    }
  });

  it('runs front says whether each member is above chance', async () => {
    const surrogate = runCommand(['runs', 'front', 'named1', '--runs-dir', runs]);
    expect(surrogate.stdout).toMatch(/HRS \(SEED 0\)\s+AT CHANCE\s+GENOTYPE/);
    const data = await new RunCatalogue(runs).read('real1');
    const checks = new Map(chanceChecks(data.config, data.evaluations).map((c) => [c.hash, c]));
    expect(checks.size).toBe(2);
    const json = JSON.parse(
      runCommand(['runs', 'front', 'real1', '--runs-dir', runs, '--json']).stdout,
    );
    expect(json.length).toBeGreaterThan(0);
    for (const row of json) expect(row.atChance).toBe(checks.get(row.hash)!.atChance);
    const table = runCommand(['runs', 'front', 'real1', '--runs-dir', runs]).stdout;
    const rows = table.split('\n').filter((l) => /^\d+\s/.test(l));
    expect(rows).toHaveLength(json.length);
    for (const row of json) {
      const line = rows.find((l) => l.includes(row.hash))!;
      expect(line).toMatch(row.atChance ? /\syes\s+Genotype\(/ : /\sno\s+Genotype\(/);
    }
    const surrogateJson = JSON.parse(
      runCommand(['runs', 'front', 'named1', '--runs-dir', runs, '--json']).stdout,
    );
    for (const row of surrogateJson) expect(row.atChance).toBeUndefined();
  });
});
