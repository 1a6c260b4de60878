/**
 * The layer boundaries of eslint.config.js, proved on small in-memory files: each rule fires on an
 * import that crosses it and stays quiet on one that does not.
 */
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: resolve(import.meta.dirname, '../..') });

/** The no-restricted-imports messages ESLint gives `code` as if it were the file `filePath`. */
async function boundaryMessages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: readonly {
  readonly file: string;
  readonly crossing: readonly string[];
  readonly allowed: readonly string[];
  readonly says: RegExp;
}[] = [
  {
    file: 'src/core/example.ts',
    crossing: [
      "import { SearchRun } from '../runner/search-run.js';",
      "import { RunCatalogue } from '../store/run-catalogue.js';",
      "import { mutateGenotype } from '../search/mutation.js';",
      "import { startServer } from '../server/server.js';",
      "import { buildModel } from '../evaluator/architecture.js';",
      "import { runCli } from '../cli.js';",
      "import { readFile } from 'node:fs/promises';",
      "import { join } from 'path';",
      "import { createHash } from 'node:crypto';",
    ],
    allowed: ["import { z } from 'zod';", "import { Rng } from './rng.js';"],
    says: /src\/core\/ is the shared contract/,
  },
  {
    file: 'src/core/canonical.ts',
    crossing: ["import { readFileSync } from 'node:fs';"],
    allowed: ["import { createHash } from 'node:crypto';"],
    says: /node:crypto only in canonical\.ts/,
  },
  {
    file: 'src/search/nsga2/example.ts',
    crossing: [
      "import { FileRunStorage } from '../../store/file-run-storage.js';",
      "import { buildModel } from '../../evaluator/architecture.js';",
      "import { SearchRun } from '../../runner/search-run.js';",
      "import { startServer } from '../../server/server.js';",
    ],
    allowed: [
      "import { nonDominatedSort } from '../../core/non-dominated-sort.js';",
      "import { crowdingDistance } from './crowding-distance.js';",
    ],
    says: /src\/search\/ is the algorithm alone/,
  },
  {
    file: 'src/search/example.ts',
    crossing: ["import * as tf from '@tensorflow/tfjs-core';"],
    allowed: ["import { Rng } from '../core/rng.js';"],
    says: /no tensors/,
  },
  {
    file: 'src/store/example.ts',
    crossing: [
      "import { mutateGenotype } from '../search/mutation.js';",
      "import { SearchRun } from '../runner/search-run.js';",
      "import { fieldIssues } from '../server/validation.js';",
    ],
    allowed: ["import type { RunFile } from '../core/records.js';"],
    says: /src\/store\/ stores runs/,
  },
  {
    file: 'src/evaluator/datasets/example.ts',
    crossing: [
      "import { writeFileAtomic } from '../../store/atomic-write.js';",
      "import { startServer } from '../../server/server.js';",
      "import { SearchRun } from '../../runner/search-run.js';",
      "import { runCli } from '../../cli/zod-options.js';",
      "import { createQueueEvaluator } from '../../placement/queue-evaluator.js';",
    ],
    allowed: [
      "import { InputError } from '../../core/errors.js';",
      "import { extract } from 'tar';",
    ],
    says: /src\/evaluator\/ evaluates networks/,
  },
  {
    file: 'src/placement/example.ts',
    crossing: [
      "import { FileRunStorage } from '../store/file-run-storage.js';",
      "import { SearchRun } from '../runner/search-run.js';",
      "import { startServer } from '../server/server.js';",
      "import { createAlgorithm } from '../search/genotype-operators.js';",
      "import { zodArg } from '../cli/zod-options.js';",
    ],
    allowed: [
      "import { parseRedisUrl } from '../core/redis-url.js';",
      "import { createPoolEvaluator } from './worker-pool.js';",
      "import { Queue } from 'bullmq';",
    ],
    says: /src\/placement\/ places evaluations/,
  },
  {
    file: 'src/placement/example-study.ts',
    crossing: ["import { runStudy } from '../study/run.js';"],
    allowed: [],
    says: /src\/placement\/ places evaluations/,
  },
  {
    file: 'src/evaluator/example-study.ts',
    crossing: ["import { planJobs } from '../study/plan.js';"],
    allowed: [],
    says: /src\/evaluator\/ evaluates networks/,
  },
  {
    file: 'src/study/example.ts',
    crossing: [
      "import { SearchRun } from '../runner/search-run.js';",
      "import { startServer } from '../server/server.js';",
      "import { createAlgorithm } from '../search/genotype-operators.js';",
      "import { zodArg } from '../cli/zod-options.js';",
    ],
    allowed: [
      "import { meanAndStderr } from '../core/noise-stats.js';",
      "import { runEvaluation } from '../evaluator/evaluate.js';",
      "import { openEvaluator } from '../placement/placement.js';",
      "import { RunLock } from '../store/run-lock.js';",
    ],
    says: /src\/study\/ runs the founding study/,
  },
  {
    file: 'dashboard/src/example.ts',
    crossing: [
      "import type { RunOverview } from '../../src/server/run-state.js';",
      "import { nonDominatedSort } from '../../src/search/index.js';",
      "import { RunCatalogue } from '../../src/store/run-catalogue.js';",
    ],
    allowed: [
      "import { paretoFront } from '../../src/core/front.js';",
      "import { drawScatter } from './scatter.js';",
    ],
    says: /The dashboard imports only src\/core\//,
  },
];

describe('layer boundaries (eslint no-restricted-imports)', () => {
  for (const c of cases) {
    it(`${c.file}: fires on imports across the boundary, not on the others`, async () => {
      for (const line of c.crossing) {
        const messages = await boundaryMessages(c.file, `${line}\nexport {};\n`);
        expect(messages, line).toHaveLength(1);
        expect(messages[0], line).toMatch(c.says);
      }
      for (const line of c.allowed) {
        expect(await boundaryMessages(c.file, `${line}\nexport {};\n`), line).toEqual([]);
      }
    });
  }

  it('the repository itself passes them', async () => {
    const results = await eslint.lintFiles(['src', 'dashboard/src']);
    const crossings = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId === 'no-restricted-imports')
        .map((m) => `${r.filePath}:${m.line}: ${m.message}`),
    );
    expect(crossings).toEqual([]);
  });
});
