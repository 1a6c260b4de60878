/**
 * The study's plan and folder without training anything: every budget is consistent and fits the
 * data a fresh clone has (quick), the plan's jobs and their order, the hand-crafted networks scaled
 * to the NAS cells' size, the settings comparison that refuses another study's folder, and the
 * journal's recovery from a torn last line.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGETS, BUDGET_NAMES, STUDY_DATASETS } from '../../src/study/budgets.js';
import { chooseDataDirs, fixtureDataRoot } from '../../src/study/data-sources.js';
import { architectures, paramsOf, planJobs } from '../../src/study/plan.js';
import { settingsDifference, StudyFolder, JOURNAL_FILE } from '../../src/study/study-folder.js';
import { checkStudyMemory, settingsOf } from '../../src/study/study.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'robust-nas-study-plan-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('budgets', () => {
  it.each(BUDGET_NAMES)('%s is consistent', (name) => {
    const b = BUDGETS[name];
    expect(b.seeds).toBeGreaterThanOrEqual(1);
    expect(b.randomGenotypes).toBeGreaterThanOrEqual(Math.max(...b.ensembleSizes));
    for (const d of STUDY_DATASETS) {
      const p = b.perDataset[d];
      expect(p.eps).toContain(p.referenceEps);
      expect([...p.eps].sort((x, y) => x - y)).toEqual(p.eps);
      // 4 swept attacks and APGD-CE fit the evaluation config's 32 attacks.
      expect(4 * p.eps.length + 1).toBeLessThanOrEqual(32);
    }
  });

  it('quick runs on what a fresh clone has: bundled MNIST and the Fashion-MNIST subset', () => {
    const q = BUDGETS.quick;
    expect(q.datasets).toEqual(['mnist', 'fashion-mnist']);
    expect(q.seeds).toBeGreaterThanOrEqual(2); // the verdicts need 2 seeds
    // Bundled MNIST: 8 000 training (1 is the unused validation image) and 2 000 test images.
    expect(q.perDataset.mnist.trainSize + 1).toBeLessThanOrEqual(8000);
    expect(q.perDataset.mnist.testSize).toBeLessThanOrEqual(2000);
    // The repository's subset: 1 000 training and 500 test images.
    expect(q.perDataset['fashion-mnist'].freshCloneSubset).toBe(true);
    expect(q.perDataset['fashion-mnist'].trainSize + 1).toBeLessThanOrEqual(1000);
    expect(q.perDataset['fashion-mnist'].testSize).toBeLessThanOrEqual(500);
    const empty = { ROBUST_NAS_CACHE: join(root, 'no-cache') };
    const choice = chooseDataDirs(['mnist', 'fashion-mnist'], q, undefined, empty);
    expect(choice.dataDirs.mnist).toBeUndefined(); // the bundled copy
    expect(choice.dataDirs['fashion-mnist']).toBe(fixtureDataRoot());
    expect(choice.notes.join('\n')).toMatch(
      /Fashion-MNIST: no full copy named or cached; using the repository's subset/,
    );
    // standard needs the full sets: it never falls back to the subset.
    const std = chooseDataDirs(['fashion-mnist'], BUDGETS.standard, undefined, empty);
    expect(std.dataDirs['fashion-mnist']).toBeUndefined();
    expect(std.notes.join('\n')).toMatch(/downloaded into the user cache/);
  });

  it('a named data folder that lacks a data set is an error, never a fallback', () => {
    expect(() =>
      chooseDataDirs(['fashion-mnist'], BUDGETS.quick, join(root, 'nowhere'), {}),
    ).toThrow(/--data-dir .*nowhere does not exist/);
  });
});

describe('plan', () => {
  it('lists every network per data set and seed, ensembles after their members', () => {
    const jobs = planJobs({
      budget: BUDGETS.quick,
      datasets: ['mnist', 'fashion-mnist'],
      seeds: 2,
      dataDirs: {},
    });
    // 4 NAS cells, 3 baselines, 5 random genotypes, 3 ensembles; 2 data sets, 2 seeds.
    expect(jobs).toHaveLength(15 * 2 * 2);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(jobs.length);
    expect(jobs.slice(0, 15).map((j) => j.id)).toEqual([
      'mnist/DARTS_V1/seed1',
      'mnist/DARTS_V2/seed1',
      'mnist/PDARTS/seed1',
      'mnist/PC_DARTS_cifar/seed1',
      'mnist/resnet18/seed1',
      'mnist/vgg16/seed1',
      'mnist/densenet121/seed1',
      'mnist/random-1/seed1',
      'mnist/random-2/seed1',
      'mnist/random-3/seed1',
      'mnist/random-4/seed1',
      'mnist/random-5/seed1',
      'mnist/ensemble-2/seed1',
      'mnist/ensemble-3/seed1',
      'mnist/ensemble-5/seed1',
    ]);
    const ens5 = jobs.find((j) => j.id === 'fashion-mnist/ensemble-5/seed2');
    expect(ens5?.kind).toBe('ensemble');
    expect(ens5?.memberJobs).toEqual([1, 2, 3, 4, 5].map((k) => `fashion-mnist/random-${k}/seed2`));
    // Random genotypes keep their weights for the ensembles; nothing else does.
    expect(jobs.filter((j) => j.keepWeights).every((j) => j.family === 'random')).toBe(true);
    // Every network of a data set: the same training and attacks.
    const mnist = jobs.filter((j) => j.dataset === 'mnist');
    expect(new Set(mnist.map((j) => JSON.stringify(j.config))).size).toBe(1);
    const config = mnist[0]!.config;
    expect(config.split).toBe('test');
    expect(config.attacks.map((a) => `${a.name}@${a.eps}`)).toEqual([
      ...['fgsm', 'rfgsm', 'stepll', 'pgd'].flatMap((n) =>
        BUDGETS.quick.perDataset.mnist.eps.map((e) => `${n}@${e}`),
      ),
      `apgd-ce@${BUDGETS.quick.perDataset.mnist.referenceEps}`,
    ]);
    // The same random genotypes on every data set.
    const genotypes = (d: string) =>
      jobs
        .filter((j) => j.dataset === d && j.family === 'random' && j.seed === 1)
        .map((j) => JSON.stringify(j.spec));
    expect(genotypes('mnist')).toEqual(genotypes('fashion-mnist'));
  });

  it('scales the hand-crafted networks to the NAS cells’ median size', () => {
    for (const d of ['mnist', 'cifar10'] as const) {
      const archs = architectures(BUDGETS.quick, d);
      const nas = archs
        .filter((a) => a.family === 'nas')
        .map((a) => paramsOf(a.spec!, BUDGETS.quick, d));
      const sorted = [...nas].sort((a, b) => a - b);
      const median = (sorted[1]! + sorted[2]!) / 2;
      for (const a of archs.filter((x) => x.family === 'handcrafted')) {
        const p = paramsOf(a.spec!, BUDGETS.quick, d);
        expect(p / median, `${d} ${a.name}`).toBeGreaterThan(0.6);
        expect(p / median, `${d} ${a.name}`).toBeLessThan(1.6);
      }
    }
  });
});

describe('study folder', () => {
  it('names the first difference of settings', () => {
    const a = settingsOf({ budget: 'tiny', out: 'x', env: {} }).settings;
    expect(settingsDifference(a, a)).toBeUndefined();
    expect(settingsDifference(a, { ...a, seeds: 3 })).toBe(
      '--seeds: the study folder has 1, this command asks for 3',
    );
    expect(settingsDifference(a, { ...a, datasets: ['mnist', 'cifar10'] })).toMatch(
      /^--datasets: /,
    );
  });

  it('drops a torn last journal line and keeps the rest', async () => {
    const dir = join(root, 'torn');
    const settings = settingsOf({ budget: 'tiny', out: dir, env: {} }).settings;
    const folder = await StudyFolder.open(dir, settings);
    await folder.record({ id: 'mnist/DARTS_V2/seed1', failed: 'NaN loss' });
    await folder.close();
    await writeFile(join(dir, JOURNAL_FILE), '{"id":"mnist/resnet18/se', { flag: 'a' });
    const again = await StudyFolder.open(dir, settings);
    expect([...again.entries().keys()]).toEqual(['mnist/DARTS_V2/seed1']);
    await again.close();
    expect(await readFile(join(dir, JOURNAL_FILE), 'utf8')).toBe(
      '{"id":"mnist/DARTS_V2/seed1","failed":"NaN loss"}\n',
    );
  });

  it('refuses a second process on the same study', async () => {
    const dir = join(root, 'locked');
    const settings = settingsOf({ budget: 'tiny', out: dir, env: {} }).settings;
    const first = await StudyFolder.open(dir, settings);
    await expect(StudyFolder.open(dir, settings)).rejects.toThrow(/is already running \(process/);
    await first.close();
  });
});

describe('memory', () => {
  it.each(BUDGET_NAMES)('%s fits the default memory limit (4096 MB)', (name) => {
    const settings = settingsOf({
      budget: name,
      out: 'x',
      datasets: [...STUDY_DATASETS],
      env: { ROBUST_NAS_CACHE: join(root, 'no-cache') },
    }).settings;
    expect(() => checkStudyMemory(settings, 4096)).not.toThrow();
    expect(() => checkStudyMemory(settings, 1)).toThrow(/seed1: .*memory/);
  });
});
