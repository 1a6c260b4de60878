/**
 * `search` takes evaluate's network, training, data and attack flags (one definition, shared) and
 * they reach the stored config; without a terminal it prints a line per evaluation, generations
 * counted from 1; Ctrl-C pauses the run (as in `serve`) and `resume` continues it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { buildSearchConfig } from '../../src/cli/search-command.js';
import { EVALUATION_OPTION_SPECS } from '../../src/cli/evaluation-options.js';
import { generationLabel } from '../../src/core/generation-label.js';
import { RunCatalogue } from '../../src/store/run-catalogue.js';
import { CLI_PATH, runCommand } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-search-flags-'));
const runs = join(root, 'runs');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function flagsOf(name: string): string[] {
  const command = buildProgram().commands.find((c) => c.name() === name)!;
  return command.options.map((o) => o.long!);
}

describe('search has the flags evaluate has', () => {
  it('every network, training, data and attack flag of evaluate is a flag of search', () => {
    const search = flagsOf('search');
    const evaluate = flagsOf('evaluate');
    const shared = [
      ...Object.entries(EVALUATION_OPTION_SPECS).map(([name, spec]) =>
        'flag' in spec
          ? `--${spec.flag}`
          : `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
      ),
      '--attack',
      '--eps',
      '--curve-eps',
      '--alpha',
      '--steps',
      '--restarts',
    ];
    expect(shared).toContain('--lr');
    expect(shared).toContain('--train-size');
    for (const flag of shared) {
      expect(search, flag).toContain(flag);
      expect(evaluate, flag).toContain(flag);
    }
  });

  it('the flags reach the stored config of a run', async () => {
    const r = runCommand([
      'search',
      '--evaluator',
      'surrogate',
      '--population',
      '3',
      '--generations',
      '2',
      '--channels',
      '12',
      '--layers',
      '3',
      '--epochs',
      '0.5',
      '--train-size',
      '300',
      '--val-size',
      '100',
      '--batch-size',
      '32',
      '--lr',
      '0.05',
      '--cutout',
      '4',
      '--attack',
      'pgd,fgsm',
      '--eps',
      '8/255',
      '--steps',
      '5',
      '--curve-eps',
      '0.01,0.02',
      '--runs-dir',
      runs,
      '--run-id',
      'flags',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { config } = await new RunCatalogue(runs).read('flags');
    expect(config.evaluation).toMatchObject({
      channels: 12,
      layers: 3,
      epochs: 0.5,
      trainSize: 300,
      valSize: 100,
      batchSize: 32,
      learningRate: 0.05,
      cutout: 4,
      split: 'val',
      curveEps: [0.01, 0.02],
    });
    expect(config.evaluation.attacks).toEqual([
      { name: 'pgd', eps: 8 / 255, steps: 5, restarts: 1 },
      { name: 'fgsm', eps: 8 / 255, steps: 5, restarts: 1 },
    ]);
    // The adversarial objective follows the first attack.
    expect(config.objectives[1]).toMatchObject({
      metric: 'adversarial',
      attack: 'pgd',
      eps: 8 / 255,
    });

    // Without a terminal: a line per evaluation (its generation counted from 1) and per generation.
    const lines = r.stdout.trim().split('\n');
    const evaluations = lines.filter((l) => /^evaluation \d+, generation \d of 2 /.test(l));
    const stored = (await new RunCatalogue(runs).read('flags')).evaluations;
    expect(evaluations).toHaveLength(stored.length);
    expect(evaluations[0]).toMatch(
      /^evaluation 1, generation 1 of 2 \([0-9a-f]{8}\): clean 0\.\d{4}, pgd@0\.031373 0\.\d{4} in \d+\.\d s$/,
    );
    expect(lines).toContain(lines.find((l) => /^generation 2 of 2 done: \d+ evaluations/.test(l)));
    expect(generationLabel(0, 2)).toBe('generation 1 of 2');
  });

  it('--steps alone applies to the attacks the objectives need; a config file is overridden by flags', async () => {
    const fromObjectives = await buildSearchConfig({ steps: 3, objectives: 'clean,pgd@0.2' });
    expect(fromObjectives.evaluation.attacks).toEqual([
      { name: 'pgd', eps: 0.2, steps: 3, restarts: 1 },
    ]);
    const file = join(root, 'search.json');
    writeFileSync(
      file,
      JSON.stringify({
        population: 5,
        evaluation: { channels: 6, layers: 2, attacks: [{ name: 'fgsm', eps: 0.05 }] },
      }),
    );
    const config = await buildSearchConfig({ config: file, layers: 4, steps: 7 });
    expect(config.population).toBe(5);
    expect(config.evaluation).toMatchObject({ channels: 6, layers: 4 });
    expect(config.evaluation.attacks).toEqual([{ name: 'fgsm', eps: 0.05, steps: 7, restarts: 1 }]);
    await expect(buildSearchConfig({ config: file, attack: 'cw' })).rejects.toThrow(
      /--attack: 'cw': Invalid option/,
    );
  });
});

describe('Ctrl-C pauses a search', () => {
  it('SIGINT: the run is paused (said on stderr), exit 0, and resume finishes it', async () => {
    const args = [
      'search',
      '--evaluator',
      'surrogate',
      '--surrogate-delay',
      '200',
      '--population',
      '4',
      '--generations',
      '3',
      '--runs-dir',
      runs,
      '--run-id',
      'sigint',
    ];
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('close', done));
    // Signal once the first evaluation is printed (the run is under way).
    await new Promise<void>((ready) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (/^evaluation 1,/m.test(stdout)) ready();
      }),
    );
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/robust-nas: SIGINT: pausing run sigint/);
    expect(stdout).toMatch(
      /run sigint paused after \d+ evaluations; continue with: robust-nas resume sigint/,
    );
    expect((await new RunCatalogue(runs).read('sigint')).status).toBe('paused');
    const resumed = runCommand(['resume', 'sigint', '--runs-dir', runs]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await new RunCatalogue(runs).read('sigint')).status).toBe('completed');
  });
});
