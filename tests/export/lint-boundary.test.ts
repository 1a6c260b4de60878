/** The export layer's boundary in eslint.config.js: core, evaluator and store only. */
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: resolve(import.meta.dirname, '../..') });

async function boundaryMessages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('src/export/ layer', () => {
  it('may import core, evaluator and store, nothing of server, cli, runner, search, study, placement', async () => {
    for (const code of [
      "import { startServer } from '../server/server.js';",
      "import { runCli } from '../cli.js';",
      "import { parseInputShape } from '../cli/info-command.js';",
      "import { SearchRun } from '../runner/search-run.js';",
      "import { mutateGenotype } from '../search/mutation.js';",
      "import { placementOf } from '../placement/placement.js';",
    ]) {
      const messages = await boundaryMessages('src/export/example.ts', code);
      expect(messages, code).toHaveLength(1);
      expect(messages[0]).toMatch(/src\/export\/ exports networks/);
    }
    for (const code of [
      "import { InputError } from '../core/errors.js';",
      "import { buildModel } from '../evaluator/architecture.js';",
      "import { RunCatalogue } from '../store/run-catalogue.js';",
      "import { modelPy } from './model-py.js';",
    ]) {
      expect(await boundaryMessages('src/export/example.ts', code), code).toEqual([]);
    }
  });
});
