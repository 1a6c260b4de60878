/**
 * `robust-nas validate <runId>`: the run's front (or chosen members) and random controls re-trained
 * with fresh seeds on the test split, the search's ranking checked against them (src/study/validate.ts).
 * Resumable: the same command continues where a killed validation stopped.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { redisUrlSchema, type RedisTarget } from '../core/redis-url.js';
import { progressEnabled } from '../evaluator/progress.js';
import { openEvaluator } from '../placement/placement.js';
import { strongSuiteConfig } from '../study/strong-suite.js';
import {
  VALIDATION_DIR,
  VALIDATION_SUITES,
  planOfSettings,
  planValidation,
  readValidationFolder,
  runValidation,
  validationReport,
  writeValidationReport,
  type ValidateOptions,
  type ValidationReport,
} from '../study/validate.js';
import { validationSummary } from '../study/validation-pages.js';
import { labelledBars } from './progress.js';
import { runStore, runsDirOf, runsDirOption, withInputErrors } from './runs-access.js';
import { numberText, schemaArgParser, secretArgParser, splitList } from './zod-options.js';

interface ValidateFlags {
  runsDir?: string;
  members?: string;
  controls?: number;
  controlSeed?: number;
  seeds?: number;
  split?: 'test' | 'val';
  epochs?: number;
  trainSize?: number;
  channels?: number;
  layers?: number;
  suite?: 'pgd' | 'strong';
  squareQueries?: number;
  workers?: number;
  queue?: RedisTarget;
  out?: string;
  json?: boolean;
  reportOnly?: boolean;
}

const say = (line: string) => process.stderr.write(`robust-nas: ${line}\n`);

const int = (min: number, max: number) =>
  schemaArgParser(z.number().int().min(min).max(max), numberText);

function membersOf(text: string | undefined): ValidateOptions['members'] {
  if (text === undefined || text === 'front') return 'front';
  if (text === 'all') return 'all';
  const hashes = splitList(text);
  if (hashes.length === 0) throw new InputError('--members: front, all, or comma-separated hashes');
  for (const h of hashes) {
    if (!/^[0-9a-f]{4,64}$/.test(h)) {
      throw new InputError(`--members: '${h}' is not a genotype hash (hex, at least 4 characters)`);
    }
  }
  return hashes;
}

function printReport(report: ValidationReport, dir: string, json: boolean | undefined): void {
  for (const line of validationSummary(report)) say(line);
  say(`report: ${join(dir, 'report.html')}, report.md, report.json`);
  if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description(
      "re-train a search's front and random controls with fresh seeds on the test split, and report whether its ranking holds (resumable)",
    )
    .argument('<runId>', 'the run to validate')
    .addOption(runsDirOption())
    .option(
      '--members <which>',
      'front (default), all, or comma-separated genotype hashes',
      'front',
    )
    .addOption(
      new Option(
        '--controls <k>',
        'random genotypes of the run space as controls (default: as many as members)',
      ).argParser(int(0, 1000)),
    )
    .addOption(
      new Option(
        '--control-seed <n>',
        "seed of the controls' sampling (default: the run's seed + 1)",
      ).argParser(int(0, 2 ** 32 - 1)),
    )
    .addOption(
      new Option('--seeds <n>', 'fresh training seeds per network')
        .argParser(int(1, 100))
        .default(3),
    )
    .addOption(
      new Option('--split <split>', 'the split scored').choices(['test', 'val']).default('test'),
    )
    .addOption(
      new Option('--epochs <n>', "training epochs (default: the run's)").argParser(int(0, 1000)),
    )
    .addOption(
      new Option('--train-size <n>', "training images (default: the run's)").argParser(
        int(1, 60_000),
      ),
    )
    .addOption(
      new Option('--channels <c>', "initial channels (default: the run's)").argParser(int(1, 512)),
    )
    .addOption(new Option('--layers <l>', "cells (default: the run's)").argParser(int(1, 64)))
    .addOption(
      new Option(
        '--suite <suite>',
        "attacks: the run's own (pgd), or strong: also APGD-CE, APGD-T and Square, an image robust only if it survives all",
      )
        .choices([...VALIDATION_SUITES])
        .default('pgd'),
    )
    .addOption(
      new Option(
        '--square-queries <n>',
        "with --suite strong: Square's queries per image (default AutoAttack's 5000; fewer is cheaper and not AutoAttack)",
      ).argParser(int(1, 20_000)),
    )
    .addOption(
      new Option(
        '--workers <n>',
        'evaluate in a local pool of n workers (default: every core)',
      ).argParser(int(1, 256)),
    )
    .addOption(
      new Option(
        '--queue <url>',
        'send the evaluations to the evaluation queue on this Redis',
      ).argParser(secretArgParser('--queue', redisUrlSchema)),
    )
    .option('--out <dir>', 'the validation folder (default: <runs dir>/<runId>/validation)')
    .option(
      '--report-only',
      'write the report of the validation in --out as far as it got, evaluating nothing',
    )
    .option('--json', 'print report.json on stdout at the end')
    .action(async (runId: string, o: ValidateFlags) => {
      if (o.workers !== undefined && o.queue !== undefined) {
        throw new InputError('give either --workers (a local pool) or --queue (Redis), not both');
      }
      const catalogue = runStore(runsDirOf(o));
      const run = await withInputErrors(() => catalogue.read(runId));
      const dir = o.out ?? join(catalogue.runDir(runId), VALIDATION_DIR);
      if (o.reportOnly) {
        const { settings, entries } = await readValidationFolder(dir);
        const report = validationReport(planOfSettings(run, settings), entries);
        await writeValidationReport(dir, report);
        printReport(report, dir, o.json);
        return;
      }
      if (run.status === 'running') {
        throw new InputError(
          `run ${runId} is running: validate it once it has finished or is paused (its front still changes)`,
        );
      }
      const plan = planValidation(
        run,
        {
          members: membersOf(o.members),
          ...(o.controls !== undefined ? { controls: o.controls } : {}),
          ...(o.controlSeed !== undefined ? { controlSeed: o.controlSeed } : {}),
          ...(o.seeds !== undefined ? { seeds: o.seeds } : {}),
          ...(o.split !== undefined ? { split: o.split } : {}),
          ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
          ...(o.trainSize !== undefined ? { trainSize: o.trainSize } : {}),
          ...(o.channels !== undefined ? { channels: o.channels } : {}),
          ...(o.layers !== undefined ? { layers: o.layers } : {}),
          ...(o.suite !== undefined ? { suite: o.suite } : {}),
        },
        (c) =>
          strongSuiteConfig(
            c,
            o.squareQueries !== undefined ? { squareQueries: o.squareQueries } : {},
          ),
      );
      const members = plan.networks.filter((n) => n.role !== 'control').length;
      say(
        `validating run ${runId} in ${dir}: ${members} member(s) + ${plan.networks.length - members} control(s) x ${plan.settings.seeds.length} fresh seed(s) = ${plan.jobs.length} trainings on the ${plan.config.split} split`,
      );
      const evaluator = await openEvaluator(
        o.queue !== undefined
          ? { queue: o.queue }
          : { workers: o.workers ?? availableParallelism() },
        { report: say, generationSize: plan.jobs.length },
      );
      say(evaluator.description);
      const controller = new AbortController();
      const onSignal = () => {
        say(
          `stopped; rerun the same command to continue (finished evaluations are kept in ${dir})`,
        );
        controller.abort(new Error('stopped by a signal'));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const bars = progressEnabled() ? labelledBars(10) : undefined;
      const bar = bars?.create(plan.jobs.length, 0, { label: 'trainings', info: '' });
      try {
        const entries = await runValidation(
          plan,
          dir,
          evaluator,
          (p) => {
            if (bar) {
              bar.update(p.done, {
                info: p.job
                  ? `${p.job.id.slice(0, 10)} ${p.job.progress.phase} ${Math.floor((100 * p.job.progress.done) / Math.max(1, p.job.progress.total))}%`
                  : '',
              });
            } else if (p.finished) {
              say(
                `[${p.done}/${p.total}] ${p.finished.id}${p.finished.failed ? `: failed: ${p.finished.failed}` : ''}`,
              );
            }
          },
          controller.signal,
        );
        bars?.stop();
        const report = validationReport(plan, entries);
        await writeValidationReport(dir, report);
        printReport(report, dir, o.json);
      } catch (err) {
        bars?.stop();
        if (controller.signal.aborted) process.exit(130);
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await evaluator.close();
      }
    });
}
