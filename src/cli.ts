#!/usr/bin/env node
/**
 * The `robust-nas` command. Each command lives in src/cli/<command>-command.ts and registers itself
 * on the program (options built from the zod schemas by src/cli/zod-options.ts); this file only wires them and turns errors into exit codes:
 * 0 success, 2 bad arguments or input (one line naming the problem), 1 anything else, 75 a fault of
 * the environment (a full disk; a run paused by one: see drive-run.ts), 128 + n a signal n that
 * arrived before the command could handle it (src/cli/early-signals.ts).
 */
// First: holds a SIGTERM/SIGINT that arrives before a command installed its handlers.
import { unhandledSignalExitCode } from './cli/early-signals.js';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { InputError } from './core/errors.js';
import { DiskWriteError } from './store/disk-errors.js';
import { ENVIRONMENT_EXIT_CODE } from './cli/drive-run.js';
import { registerGenotypeCommands } from './cli/genotype-command.js';
import { registerInfoCommand } from './cli/info-command.js';
import { registerBenchCommand } from './cli/bench-command.js';
import { registerEvaluateCommand } from './cli/evaluate-command.js';
import { registerSearchCommand } from './cli/search-command.js';
import { registerResumeCommand } from './cli/resume-command.js';
import { registerRunsCommand } from './cli/runs-command.js';
import { registerExportCommand } from './cli/export-command.js';
import { registerExportModelCommand } from './cli/export-model-command.js';
import { registerServeCommand } from './cli/serve-command.js';
import { registerWorkerCommand } from './cli/worker-command.js';
import { registerWorkersCommand } from './cli/workers-command.js';
import { registerNoiseCommand } from './cli/noise-command.js';
import { registerStudyCommand } from './cli/study-command.js';
import { registerValidateCommand } from './cli/validate-command.js';

export function buildProgram(): Command {
  const program = new Command('robust-nas')
    .description(
      'Robustness-aware neural architecture search over DARTS genotypes (NSGA-II, clean and PGD accuracy).',
    )
    .version('0.1.0')
    .exitOverride();
  registerGenotypeCommands(program);
  registerInfoCommand(program);
  registerBenchCommand(program);
  registerEvaluateCommand(program);
  registerSearchCommand(program);
  registerResumeCommand(program);
  registerRunsCommand(program);
  registerExportCommand(program);
  registerExportModelCommand(program);
  registerServeCommand(program);
  registerWorkerCommand(program);
  registerWorkersCommand(program);
  registerNoiseCommand(program);
  registerStudyCommand(program);
  registerValidateCommand(program);
  oneLineErrors(program);
  return program;
}

/**
 * Commander's own errors (a bad choice, a bad number, an unknown option or command, a missing
 * argument) as one line on stderr naming the command, exit code 2 (runCli): the same shape as the
 * InputErrors the commands throw. Applied to every command, after all are registered.
 */
function oneLineErrors(command: Command): void {
  const path: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) path.unshift(c.name());
  const usage = `${path.join(' ')} --help`;
  command.showHelpAfterError(false);
  command.configureOutput({
    outputError: (text, write) => {
      const message = text.trim().replace(/\s*\n\s*/g, ' ');
      write(`robust-nas: ${message} (see ${usage})\n`);
    },
  });
  for (const sub of command.commands) oneLineErrors(sub);
}

/**
 * Commands that own work a lost reader must not abandon (a run, a study, a validation, a worker's
 * jobs): with their output gone they carry on (and still pause, checkpoint and exit as usual).
 */
const LONG_RUNNING = new Set(['serve', 'search', 'resume', 'study', 'validate', 'worker', 'noise']);

/**
 * Output piped into a reader that stops early (`robust-nas runs front X | head`): the next write
 * fails with EPIPE; exit quietly (code 0, as the reader asked for no more) instead of a stack trace.
 * A long-running command (LONG_RUNNING) instead drops what it would print and goes on. Installed
 * once for every command.
 */
export function exitQuietlyOnBrokenPipe(
  stream: NodeJS.WriteStream = process.stdout,
  command: string | undefined = process.argv[2],
): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (command !== undefined && LONG_RUNNING.has(command)) return;
    process.exit(0);
  });
}

/** Runs the CLI and returns the process exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return 0;
      }
      return 2; // commander already printed "error: ..." naming the problem
    }
    if (err instanceof InputError) {
      process.stderr.write(`robust-nas: error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof DiskWriteError) {
      process.stderr.write(`robust-nas: failed: ${err.message}\n`);
      return ENVIRONMENT_EXIT_CODE;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`robust-nas: failed: ${message}\n`);
    if (process.env.ROBUST_NAS_DEBUG && err instanceof Error)
      process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  exitQuietlyOnBrokenPipe();
  const code = await runCli(process.argv.slice(2));
  // A signal that came while a command without handlers ran: as if it had ended the process.
  const signalled = unhandledSignalExitCode();
  if (signalled !== undefined) process.exit(signalled);
  // Long-lived commands (serve, search) keep the process alive themselves and set exitCode.
  if (code !== 0) process.exit(code);
}
