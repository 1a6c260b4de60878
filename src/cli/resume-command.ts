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
  placementOptions,
  runsDirOption,
  searchRunOptions,
  withInputErrors,
  withUserDataChecksum,
  type PlacementFlags,
} from './runs-access.js';

export function registerResumeCommand(program: Command): void {
  const command = program
    .command('resume <runId>')
    .description('Continue a paused, stopped or interrupted run from its last checkpoint.')
    .addOption(runsDirOption())
    .option('--json', 'print every event as a JSON line')
    .addOption(maxMemoryOption());
  for (const option of placementOptions()) command.addOption(option);
  command.action(
    async (
      runId: string,
      opts: PlacementFlags & { runsDir?: string; json?: boolean; maxMemoryMb?: string },
    ) => {
      const runsDir = runsDirOf(opts);
      const data = await withInputErrors(() => runStore(runsDir).read(runId));
      if (data.status === 'completed') {
        process.stdout.write(`run ${runId} is already completed\n`);
        return;
      }
      checkNamedDataFolder(data.config, `run ${runId}`);
      // The user's own data must be what the run was created on.
      withUserDataChecksum(data.config, `run ${runId}`);
      checkSearchMemory(data.config, memoryLimitMB(opts.maxMemoryMb));
      const evaluator = await evaluatorFor(data.config, opts);
      try {
        const run = await withInputErrors(() =>
          SearchRun.open(runId, searchRunOptions(runsDir, evaluator)),
        );
        await driveRun(run, opts.json === true);
      } finally {
        await evaluator?.close();
      }
    },
  );
}
