/**
 * `robust-nas study`: the founding study's experiment (issue 14): the published NAS cells, the
 * hand-crafted baselines at a matched size, random DARTS genotypes and their ensembles, all
 * naturally trained with several seeds on each data set and attacked with FGSM, R-FGSM, Step-LL and
 * PGD over an eps sweep (APGD-CE as a check), then a report (HTML, Markdown, JSON, SVG) with a
 * verdict per claim. Resumable: the same --out continues where a killed study stopped.
 */
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { formatIssues } from '../core/issues.js';
import type { RedisTarget } from '../core/redis-url.js';
import { redisUrlSchema } from '../core/redis-url.js';
import { progressEnabled } from '../evaluator/progress.js';
import { BUDGET_NAMES, STUDY_DATASETS, type StudyDataset } from '../study/budgets.js';
import { ENVIRONMENT_EXIT_CODE, openEvaluator, placementOf } from '../placement/placement.js';
import type { StudyEvent } from '../study/run.js';
import {
  checkStudyMemory,
  executeStudy,
  powerAfter,
  powerBefore,
  reportOnly,
  settingsOf,
} from '../study/study.js';
import { MAX_MEMORY_ENV_VAR, memoryLimitMB } from '../evaluator/memory-estimate.js';
import { labelledBars } from './progress.js';
import { numberText, schemaArgParser, secretArgParser, splitList } from './zod-options.js';

const studyOptionsSchema = z.object({
  budget: z.enum(BUDGET_NAMES).default('quick'),
  seeds: z.number().int().min(1).max(100).optional(),
  targetDifference: z.number().positive().max(100).optional(),
  workers: z.number().int().min(1).max(256).optional(),
});

interface StudyOptions {
  budget?: string;
  datasets?: string;
  seeds?: number;
  targetDifference?: number;
  workers?: number;
  queue?: RedisTarget;
  out?: string;
  dataDir?: string;
  json?: boolean;
  reportOnly?: boolean;
  maxMemoryMb?: string;
}

function parseDatasets(text: string | undefined): StudyDataset[] | undefined {
  if (text === undefined) return undefined;
  const names = splitList(text);
  if (names.length === 0) throw new InputError('--datasets: give a comma-separated list');
  return names.map((n) => {
    const r = z.enum(STUDY_DATASETS).safeParse(n.trim().toLowerCase());
    if (!r.success) {
      throw new InputError(`--datasets: '${n}' is not one of ${STUDY_DATASETS.join(', ')}`);
    }
    return r.data;
  });
}

const say = (line: string) => process.stderr.write(`robust-nas: ${line}\n`);

/** Progress on stderr: a bar of evaluations on a terminal, else one line per finished evaluation. */
function studyProgress(
  total: number,
  done: number,
): {
  onEvent: (e: StudyEvent) => void;
  stop: () => void;
} {
  const running = new Map<string, string>();
  let finished = done;
  if (progressEnabled()) {
    const bars = labelledBars(10);
    const bar = bars.create(total, done, { label: 'evaluations', info: '' });
    const info = () =>
      [...running.entries()]
        .map(([id, phase]) => `${id} ${phase}`)
        .join(' · ')
        .slice(0, 90);
    return {
      onEvent(e) {
        if (e.type === 'started') running.set(e.job.id, 'starting');
        else if (e.type === 'progress') {
          const p = e.progress;
          running.set(e.job.id, `${p.phase} ${Math.floor((100 * p.done) / Math.max(1, p.total))}%`);
        } else {
          running.delete(e.job.id);
          finished += 1;
        }
        bar.update(finished, { info: info() });
      },
      stop: () => bars.stop(),
    };
  }
  return {
    onEvent(e) {
      if (e.type !== 'finished') return;
      finished += 1;
      const entry = e.entry;
      const what =
        'failed' in entry
          ? `failed: ${entry.failed}`
          : `clean ${(100 * entry.scores.clean.accuracy).toFixed(1)}%`;
      process.stderr.write(`robust-nas: [${finished}/${total}] ${e.job.id}: ${what}\n`);
    },
    stop: () => {},
  };
}

export function registerStudyCommand(program: Command): void {
  program
    .command('study')
    .description(
      'the founding study: NAS cells vs hand-crafted networks vs random genotypes and their ensembles, naturally trained, attacked, with a verdict per claim (resumable)',
    )
    .addOption(
      new Option('--budget <name>', 'how much to run (budgets: src/study/budgets.ts)')
        .choices([...BUDGET_NAMES])
        .default('quick'),
    )
    .option(
      '--datasets <list>',
      `comma-separated (${STUDY_DATASETS.join(', ')}; default: the budget's)`,
    )
    .addOption(
      new Option('--seeds <n>', "training seeds per network (default: the budget's)").argParser(
        schemaArgParser(z.number().int().min(1).max(100), numberText),
      ),
    )
    .addOption(
      new Option(
        '--target-difference <points>',
        'choose seeds and test images so that every claim detects this difference (in points; instead of --seeds)',
      ).argParser(schemaArgParser(z.number().positive().max(100), numberText)),
    )
    .addOption(
      new Option(
        '--workers <n>',
        'evaluate in a local pool of n workers (default: one per core)',
      ).argParser(schemaArgParser(z.number().int().min(1).max(256), numberText)),
    )
    .addOption(
      new Option(
        '--queue <url>',
        'send every evaluation (cell networks, baselines, ensembles) to the evaluation queue on this Redis',
      ).argParser(secretArgParser('--queue', redisUrlSchema)),
    )
    .option('--out <dir>', 'the study folder (created, or continued when it holds this study)')
    .option(
      '--data-dir <dir>',
      'folder with mnist/, fashion-mnist/, cifar-10/ (default: $ROBUST_NAS_DATA, the user cache, the bundled MNIST, the repository subset)',
    )
    .option(
      '--max-memory-mb <mb>',
      `refuse a study whose networks' estimated training or attack memory exceeds this (default: $${MAX_MEMORY_ENV_VAR} or 4096)`,
    )
    .option(
      '--report-only',
      'write the report of the study in --out as far as it got (it may be running), evaluating nothing',
    )
    .option('--json', 'print report.json on stdout at the end')
    .action(async (o: StudyOptions) => {
      const r = studyOptionsSchema.safeParse({
        budget: o.budget,
        seeds: o.seeds,
        targetDifference: o.targetDifference,
        workers: o.workers,
      });
      if (!r.success) throw new InputError(`invalid options: ${formatIssues(r.error)}`);
      if (o.workers !== undefined && o.queue !== undefined) {
        throw new InputError('give either --workers (a local pool) or --queue (Redis), not both');
      }
      const budget = r.data.budget;
      const out = o.out ?? `study-${budget}`;
      if (o.reportOnly) {
        const report = await reportOnly(out);
        const e = report.evaluations;
        say(
          `report: ${out}/report.html, report.md, report.json (${e.finished} of ${e.planned} evaluations)`,
        );
        for (const c of report.claims) say(`${c.id}: ${c.verdict} (${c.statistic})`);
        for (const line of powerAfter(report)) say(line);
        if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const { settings, notes } = settingsOf({
        budget,
        out,
        ...(o.datasets !== undefined ? { datasets: parseDatasets(o.datasets) } : {}),
        ...(r.data.seeds !== undefined ? { seeds: r.data.seeds } : {}),
        ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
        ...(r.data.targetDifference !== undefined
          ? { targetDifference: r.data.targetDifference / 100 }
          : {}),
        ...(r.data.workers !== undefined ? { workers: r.data.workers } : {}),
      });
      checkStudyMemory(settings, memoryLimitMB(o.maxMemoryMb));
      for (const n of notes) say(n);
      const started = performance.now();
      let progress: ReturnType<typeof studyProgress> | undefined;
      const onSignal = () => {
        progress?.stop();
        say(
          `stopped; rerun the same command to continue (finished evaluations are kept in ${out})`,
        );
        process.exit(130);
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const report = await executeStudy(out, settings, {
          // Every network (cells, baselines, ensembles) goes where --workers / --queue say,
          // else to every core; on the queue, as many in flight as the plan allows.
          evaluator: async () => {
            const placement = placementOf(undefined, {
              ...(o.workers !== undefined ? { workers: o.workers } : {}),
              ...(o.queue !== undefined ? { queue: o.queue } : {}),
            });
            const evaluator = await openEvaluator(placement, {
              report: say,
              ...(placement.queue !== undefined ? { generationSize: 64 } : {}),
            });
            say(evaluator.description);
            return evaluator;
          },
          onOpen: ({ jobs, done, folder }) => {
            say(
              `study in ${folder.dir}: ${jobs.length} evaluations, ${done} already done (budget ${budget}, ${settings.seeds} seed(s), ${settings.datasets.join(', ')})`,
            );
            for (const line of powerBefore(settings, folder.entries(), r.data.workers ?? 1)) {
              say(line);
            }
            progress = studyProgress(jobs.length, done);
          },
          onEvent: (e) => progress?.onEvent(e),
        });
        progress?.stop();
        const minutes = (performance.now() - started) / 60_000;
        say(`report: ${out}/report.html, report.md, report.json (${minutes.toFixed(1)} min)`);
        for (const c of report.claims) say(`${c.id}: ${c.verdict} (${c.statistic})`);
        for (const line of powerAfter(report)) say(line);
        if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      } catch (err) {
        if (err instanceof InputError) throw err;
        // A fault of the environment (a worker that kept dying, Redis gone, a full disk): the
        // evaluations finished are kept; exit 75 says "try again".
        progress?.stop();
        say(
          `stopped: ${err instanceof Error ? err.message : String(err)}; rerun the same command to continue (finished evaluations are kept in ${out})`,
        );
        process.exitCode = ENVIRONMENT_EXIT_CODE;
      } finally {
        progress?.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
