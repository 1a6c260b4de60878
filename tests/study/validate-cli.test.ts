/**
 * `robust-nas validate` end to end on a tiny real search (real child processes, real training on the
 * generated data set): the report's shape, the strong suite never above PGD, resumption redoing
 * nothing, --report-only, and bad arguments.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/server.js';
import { runCommand } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-validate-'));
const runs = join(root, 'runs');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SEARCH = [
  'search',
  '--dataset',
  'synthetic',
  '--channels',
  '2',
  '--layers',
  '1',
  '--epochs',
  '1',
  '--train-size',
  '64',
  '--val-size',
  '32',
  '--test-size',
  '32',
  '--batch-size',
  '32',
  '--attack',
  'pgd',
  '--eps',
  '0.1',
  '--steps',
  '2',
  '--population',
  '3',
  '--generations',
  '2',
  '--seed',
  '4',
  '--workers',
  '1',
  '--runs-dir',
  runs,
  '--run-id',
  'v',
];

interface Report {
  runId: string;
  split: string;
  seeds: number[];
  suite: string;
  autoAttack: boolean;
  objectives: {
    name: string;
    spearman: number | null;
    optimism: { mean: number; stderr: number } | null;
    coverage: { share: number } | null;
    frontMinusControls: { mean: number; stderr: number } | null;
    dominanceKept: { kept: number; total: number };
  }[];
  members: {
    hash: string;
    role: string;
    search: { mean: number[]; stderr: number[]; seeds: number } | null;
    validated: { mean: number[]; stderr: number[]; seeds: number };
    strong: { mean: number; stderr: number } | null;
  }[];
  complete: boolean;
}

const VALIDATE = [
  'validate',
  'v',
  '--runs-dir',
  runs,
  '--seeds',
  '2',
  '--controls',
  '1',
  '--suite',
  'strong',
  '--square-queries',
  '20',
  '--workers',
  '1',
];

describe('robust-nas validate', () => {
  beforeAll(() => {
    const r = runCommand(SEARCH);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
  });

  it('re-trains the front and a control on fresh seeds and writes the report', () => {
    const r = runCommand([...VALIDATE, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.runId).toBe('v');
    expect(report.split).toBe('test');
    expect(report.seeds).toHaveLength(2);
    expect(report.suite).toBe('strong');
    // Square at 20 queries is not AutoAttack's standard version: never called AutoAttack.
    expect(report.autoAttack).toBe(false);
    expect(report.complete).toBe(true);
    const front = report.members.filter((m) => m.role === 'front');
    const controls = report.members.filter((m) => m.role === 'control');
    expect(front.length).toBeGreaterThan(0);
    expect(controls).toHaveLength(1);
    for (const m of front) {
      expect(m.search!.mean).toHaveLength(2);
      expect(m.search!.seeds).toBeGreaterThan(0);
    }
    for (const m of report.members) {
      expect(m.validated.seeds).toBe(2);
      expect(m.validated.mean).toHaveLength(2);
      // The worst case over PGD and the strong suite is never above PGD (objective 1) alone.
      expect(m.strong).not.toBeNull();
      expect(m.strong!.mean).toBeLessThanOrEqual(m.validated.mean[1]! + 1e-12);
    }
    expect(report.objectives.map((o) => o.name)).toEqual(['clean', 'pgd@0.1']);
    for (const o of report.objectives) {
      expect(o.frontMinusControls).not.toBeNull();
      expect(o.optimism).not.toBeNull();
    }
    const dir = join(runs, 'v', 'validation');
    for (const f of ['report.json', 'report.md', 'report.html', 'settings.json', 'journal.jsonl']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).not.toMatch(
      /<script|(?:src|href)="https?:/,
    );
    expect(r.stderr).toMatch(/front minus controls/);
  });

  it('a second run of the same command redoes nothing; --report-only writes the same report', () => {
    const dir = join(runs, 'v', 'validation');
    const before = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
    const report = readFileSync(join(dir, 'report.json'), 'utf8');
    const again = runCommand(VALIDATE);
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8')).toBe(before);
    expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe(report);
    const only = runCommand(['validate', 'v', '--runs-dir', runs, '--report-only']);
    expect(only.code).toBe(0);
    expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe(report);
  });

  it('the server serves the report (GET /api/runs/:id/validation, report.html without scripts)', async () => {
    const server = await startServer({ port: 0, runsDir: runs });
    try {
      const json = await fetch(new URL('/api/runs/v/validation', server.url));
      expect(json.status).toBe(200);
      const report = (await json.json()) as Report;
      expect(report.runId).toBe('v');
      expect(report.members.length).toBeGreaterThan(1);
      const html = await fetch(new URL('/api/runs/v/validation/report.html', server.url));
      expect(html.status).toBe(200);
      expect(html.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      const none = await fetch(new URL('/api/runs/nope/validation', server.url));
      expect(none.status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('other settings in the same folder, an unknown run and a bad hash: exit 2, one line', () => {
    const other = runCommand([...VALIDATE.filter((a, i) => i < 4), '--seeds', '3']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/other settings/);
    const unknown = runCommand(['validate', 'nope', '--runs-dir', runs]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const bad = runCommand(['validate', 'v', '--runs-dir', runs, '--members', 'zz']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--members/);
  });
});
