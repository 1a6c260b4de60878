/**
 * The user's own data through the built command: a tiny ImageFolder of generated PNGs and a
 * generated .npz evaluated end to end with a tiny network (with evaluate's progress lines on
 * stderr), a search on a folder recording the data's checksum, and bad data exiting 2 on one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadUserDataset } from '../../src/evaluator/datasets/user-data.js';
import { RunCatalogue } from '../../src/store/run-catalogue.js';
import { runCommand } from '../helpers/cli.js';
import { toyNpzArrays, writeFile, writeImageFolder, zipBytes } from '../helpers/user-data-files.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-user-data-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const folder = join(root, 'shapes');
writeImageFolder(folder, ['left', 'right'], { train: 24, test: 10 });
const npz = join(root, 'toy.npz');
writeFile(npz, zipBytes(toyNpzArrays({ train: 48, test: 20 }), true));

const TINY = [
  '--genotype',
  'DARTS_V2',
  '--channels',
  '2',
  '--layers',
  '1',
  '--epochs',
  '1',
  '--train-size',
  '32',
  '--val-size',
  '8',
  '--test-size',
  '16',
  '--batch-size',
  '8',
  '--attack',
  'fgsm',
  '--backend',
  'wasm',
  '--json',
];

describe('evaluate on the user’s own data', () => {
  it('--dataset folder: trained and attacked end to end, progress on stderr', () => {
    const r = runCommand(['evaluate', '--dataset', 'folder', '--data-dir', folder, ...TINY]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.data).toMatchObject({
      dataset: 'folder',
      source: 'data-dir',
      folder,
      trainImages: 32,
      scoredImages: 16,
    });
    expect(out.clean.n).toBe(16);
    expect(out.clean.accuracy).toBeGreaterThanOrEqual(0);
    expect(out.clean.accuracy).toBeLessThanOrEqual(1);
    expect(out.adversarial[0]).toMatchObject({ attack: 'fgsm', eps: 2 / 255, n: 16 });
    expect(out.config.dataset).toBe('folder');
    // Progress without a terminal: lines, from 0% to 100% of each phase (32 images / 8 = 4 steps).
    const lines = r.stderr.split('\n');
    expect(lines).toContain('robust-nas: loading the data set');
    expect(lines).toContain('robust-nas: training: 0/4 steps (0%)');
    expect(lines).toContain('robust-nas: training: 4/4 steps (100%)');
    expect(lines.filter((l) => l.startsWith('robust-nas: training: '))).toHaveLength(5);
    expect(lines).toContain('robust-nas: scoring (clean, then each attack): 2/2 batches (100%)');
    expect(r.stderr).toMatch(
      /folder .*shapes: 2 classes \(left, right\), 48 training and 20 test images of 8x8x1/,
    );
  });

  it('--dataset npz: trained and attacked end to end', () => {
    const r = runCommand([
      'evaluate',
      '--dataset',
      'npz',
      '--data-dir',
      npz,
      ...TINY,
      '--eps',
      '0.1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.data).toMatchObject({ dataset: 'npz', folder: npz, scoredImages: 16 });
    expect(out.adversarial[0]).toMatchObject({ attack: 'fgsm', eps: 0.1, n: 16 });
    expect(r.stderr).toMatch(/npz .*toy\.npz: 2 classes, 48 training and 20 test images of 8x8x1/);
  });

  it('bad data or a missing path: exit 2, one line naming it', () => {
    for (const [args, message] of [
      [['--dataset', 'npz'], /data set 'npz' needs a file: --data-dir FILE\.npz/],
      [
        ['--dataset', 'folder', '--data-dir', join(root, 'nope')],
        /--data-dir .*nope does not exist/,
      ],
      [['--dataset', 'folder', '--data-dir', npz], /is not a folder/],
      [
        ['--dataset', 'npz', '--data-dir', join(folder, 'train', 'left', '0.png')],
        /0\.png: not a readable zip\/npz file/,
      ],
    ] as const) {
      const r = runCommand(['evaluate', ...TINY, ...args]);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^robust-nas: error: /);
      expect(lines[0]).toMatch(message);
    }
  });
});

describe('search on the user’s own data', () => {
  const runs = join(root, 'runs');
  const search = [
    'search',
    '--dataset',
    'folder',
    '--data-dir',
    folder,
    '--channels',
    '2',
    '--layers',
    '1',
    '--epochs',
    '0.5',
    '--train-size',
    '16',
    '--val-size',
    '8',
    '--batch-size',
    '8',
    '--attack',
    'fgsm',
    '--population',
    '2',
    '--generations',
    '1',
    '--max-seeds',
    '1',
    '--runs-dir',
    runs,
  ];

  it("records the data's checksum in the run's config; a config whose checksum the files do not match is refused", async () => {
    const r = runCommand([...search, '--run-id', 'mine']);
    expect(r.code, r.stderr).toBe(0);
    const { config, evaluations } = await new RunCatalogue(runs).read('mine');
    expect(config.evaluation).toMatchObject({
      dataset: 'folder',
      dataDir: folder,
      dataChecksum: loadUserDataset('folder', folder).spec.checksum,
    });
    expect(evaluations.filter((e) => e.status === 'finished')).toHaveLength(2);

    // Sizes the images cannot supply: exit 2 before the run is created.
    const big = runCommand([...search, '--train-size', '5000', '--run-id', 'big']);
    expect(big.code).toBe(2);
    expect(big.stderr.trim()).toMatch(
      /^robust-nas: error: train-size 5000 \+ val-size 8 exceed the 48 training images of folder .*shapes$/,
    );
    expect(await new RunCatalogue(runs).list()).toHaveLength(1);

    const file = join(root, 'stale.json');
    writeFileSync(
      file,
      JSON.stringify({ evaluation: { ...config.evaluation, dataChecksum: 'a'.repeat(64) } }),
    );
    const stale = runCommand([...search, '--config', file, '--run-id', 'stale']);
    expect(stale.code).toBe(2);
    expect(stale.stderr.trim()).toMatch(
      /^robust-nas: error: .*shapes: the data changed since this run was created \(sha256 now [0-9a-f]{12}\.\.\., recorded a{12}\.\.\.\); restore it or start a new run$/,
    );
  });
});
