/** `robust-nas resume <runId>`: continue a paused, stopped or interrupted run where it left off. */
import type { Command } from 'commander';
import { checkSearchMemory, memoryLimitMB } from '../evaluator/memory-estimate.js';
import { SearchRun } from '../runner/search-run.js';
import { driveRun } from './drive-run.js';
import {
  checkNamedDataFolder,
  evaluatorFor,
  maxMemoryOption,
  runStore,
  runsDirOf,
  runsDirOption,
  searchRunOptions,
  withInputErrors,
} from './runs-access.js';

export function registerResumeCommand(program: Command): void {
  program
    .command('resume <runId>')
    .description('Continue a paused, stopped or interrupted run from its last checkpoint.')
    .addOption(runsDirOption())
    .option('--json', 'print every event as a JSON line')
    .addOption(maxMemoryOption())
    .action(
      async (runId: string, opts: { runsDir?: string; json?: boolean; maxMemoryMb?: string }) => {
        const runsDir = runsDirOf(opts);
        const data = await withInputErrors(() => runStore(runsDir).read(runId));
        if (data.status === 'completed') {
          process.stdout.write(`run ${runId} is already completed\n`);
          return;
        }
        checkSearchMemory(data.config, memoryLimitMB(opts.maxMemoryMb));
        checkNamedDataFolder(data.config, `run ${runId}`);
        const evaluate = await evaluatorFor(data.config);
        const run = await withInputErrors(() =>
          SearchRun.open(runId, searchRunOptions(runsDir, evaluate)),
        );
        await driveRun(run, opts.json === true);
      },
    );
}
