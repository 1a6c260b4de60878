/**
 * How the built command fails: commander's own errors on one line with exit 2, an unknown run
 * naming the runs folder looked in, and output piped into a reader that stops early (EPIPE)
 * ending quietly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, runCommand } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-cli-errors-'));
const runs = join(root, 'runs');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("commander's errors: one line, exit 2, naming the command", () => {
  it.each([
    [
      ['search', '--strategy', 'annealing'],
      /argument 'annealing' is invalid\. Allowed choices are nsga2, random\. \(see robust-nas search --help\)$/,
    ],
    [
      ['search', '--population', '-3'],
      /option '--population <n>' argument '-3' is invalid\. Too small: expected number to be >=1 \(see robust-nas search --help\)$/,
    ],
    [
      ['evaluate', '--channels', 'many'],
      /option '--channels <n>' argument 'many' is invalid\. Invalid input: expected a number \(see robust-nas evaluate --help\)$/,
    ],
    [
      ['evaluate', '--no-such-flag'],
      /unknown option '--no-such-flag' \(see robust-nas evaluate --help\)$/,
    ],
    [['runs', 'front'], /missing required argument 'runId' \(see robust-nas runs front --help\)$/],
    [
      ['export', 'x', '--format', 'xml'],
      /argument 'xml' is invalid\. Allowed choices are csv, json\. \(see robust-nas export --help\)$/,
    ],
    [['frobnicate'], /unknown command 'frobnicate' \(see robust-nas --help\)$/],
    [
      ['genotype', 'sample'],
      /required option '--seed <seed>' not specified \(see robust-nas genotype sample --help\)$/,
    ],
  ])('%j', (args, message) => {
    const r = runCommand(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^robust-nas: error: /);
    expect(lines[0]).toMatch(message);
  });

  it('an unknown run names the runs folder looked in', () => {
    for (const [args, env, folder] of [
      [['runs', 'front', 'nope', '--runs-dir', runs], {}, resolve(runs)],
      [['export', 'nope', '--format', 'csv'], { ROBUST_NAS_RUNS: runs }, resolve(runs)],
    ] as const) {
      const r = runCommand([...args], env);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(
        `robust-nas: error: unknown run: nope: no such run in ${folder}`,
      );
    }
    const r = runCommand(['resume', 'nope'], { ROBUST_NAS_RUNS: '' });
    expect(r.stderr.trim()).toMatch(
      /no such run in .*runs \(the default \.\/runs; --runs-dir or ROBUST_NAS_RUNS name another\)$/,
    );
  });
});

describe('output into a reader that stops early (| head)', () => {
  beforeAll(() => {
    const r = runCommand([
      'search',
      '--evaluator',
      'surrogate',
      '--population',
      '8',
      '--generations',
      '2',
      '--runs-dir',
      runs,
      '--run-id',
      'piped',
    ]);
    expect(r.code, r.stderr).toBe(0);
  });

  /** Runs the CLI with its stdout a pipe whose reading end is closed before the CLI writes. */
  function closedReader(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [CLI_PATH, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => done({ code, stderr }));
    });
  }

  it.each([
    [['runs', 'front', 'piped']],
    [['runs', 'front', 'piped', '--json']],
    [['export', 'piped', '--format', 'csv']],
    [['export', 'piped', '--format', 'json']],
    [['genotype', 'sample', '--count', '50', '--seed', '1']],
  ])('%j exits 0 without a word', async (args) => {
    const r = await closedReader([
      ...args,
      ...(args[0] === 'genotype' ? [] : ['--runs-dir', runs]),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
