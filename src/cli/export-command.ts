/** `robust-nas export <runId>`: every evaluation of a run as CSV or JSON. */
import { writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { runToCsv } from '../store/run-export.js';
import { runStore, runsDirOf, runsDirOption, withInputErrors } from './runs-access.js';

export const EXPORT_FORMATS = ['csv', 'json'] as const;

export function registerExportCommand(program: Command): void {
  program
    .command('export <runId>')
    .description('Every evaluation of a run as CSV or JSON.')
    .addOption(
      new Option('--format <format>', 'csv or json').choices(EXPORT_FORMATS).makeOptionMandatory(),
    )
    .option('--output <file>', 'write to a file instead of standard output')
    .addOption(runsDirOption())
    .action(async (runId: string, opts: { format: string; output?: string; runsDir?: string }) => {
      const data = await withInputErrors(() => runStore(runsDirOf(opts)).read(runId));
      const text = opts.format === 'csv' ? runToCsv(data) : `${JSON.stringify(data, null, 2)}\n`;
      if (opts.output) await writeFile(opts.output, text);
      else process.stdout.write(text);
    });
}
