import type { Command } from 'commander';
import { resolveNamedDataDir } from '../evaluator/datasets/locate.js';
import { MAX_MEMORY_ENV_VAR, memoryLimitMB } from '../evaluator/memory-estimate.js';
import { ALLOWED_HOSTS_ENV_VAR, allowedHostsFrom } from '../server/access.js';
import { z } from 'zod';
import { startDemo } from '../server/demo.js';
import { createSearchEngine } from '../server/search-engine.js';
import { startServer } from '../server/server.js';
import { checkStudiesDirs } from '../server/studies.js';
import { InputError } from '../core/errors.js';
import { openEvaluator, placementOf, type RunEvaluator } from '../placement/placement.js';
import { placementOptions, runsDirOf, type PlacementFlags } from './runs-access.js';
import { schemaOption } from './zod-options.js';

interface ServeFlags extends PlacementFlags {
  host: string;
  port: number;
  runsDir?: string;
  token?: string;
  allowedHost: string[];
  maxMemoryMb?: string;
  downloadData?: boolean;
  demo?: boolean;
  studiesDir: string[];
}

/**
 * Writes to stdout or stderr that survive their reader going away (`serve | head -1`): an EPIPE
 * must not crash the server before Ctrl-C has paused its searches. Other write errors are ignored
 * too: there is nowhere left to report them.
 */
function keepWritingWithoutReader(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => {});
  }
}

function say(line: string): void {
  if (!process.stdout.destroyed && process.stdout.writable) process.stdout.write(`${line}\n`);
}

function complain(line: string): void {
  if (!process.stderr.destroyed && process.stderr.writable) process.stderr.write(`${line}\n`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const portSchema = z.number().int().min(0).max(65535).default(3000);

/** Registers `robust-nas serve`: the REST API, the live feed and the dashboard. */
export function registerServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description(
      'Serve the dashboard, the REST API and the live Pareto front (socket.io); Ctrl-C pauses running searches and exits.',
    )
    .option('--host <host>', 'address to bind (a non-loopback address needs --token)', '127.0.0.1')
    .addOption(
      schemaOption('port', portSchema, {
        arg: 'port',
        description: 'port to listen on (0: any free port)',
      }),
    )
    .option('--runs-dir <dir>', 'folder of the runs (default: $ROBUST_NAS_RUNS or ./runs)')
    .option(
      '--token <token>',
      'bearer token guarding the API and the live feed (default: env ROBUST_NAS_TOKEN)',
    )
    .option(
      '--allowed-host <name>',
      `another name (or name:port) the Host and Origin headers may give, e.g. behind a proxy; repeatable (also: env ${ALLOWED_HOSTS_ENV_VAR}, comma-separated)`,
      collect,
      [],
    )
    .option(
      '--max-memory-mb <mb>',
      `refuse real searches whose largest network would need more memory (default: $${MAX_MEMORY_ENV_VAR} or 4096)`,
    )
    .option(
      '--download-data',
      'let searches started from the page download a data set this machine lacks (CIFAR-10: 170 MB) into the user cache; without it they are refused',
    )
    .option(
      '--demo',
      'also start a small demo search on the bundled MNIST data (or continue the paused one)',
    )
    .option(
      '--studies-dir <dir>',
      'a folder of study folders (or one study folder) the dashboard lists; repeatable (default: the folder holding the runs folder)',
      collect,
      [],
    );
  for (const option of placementOptions()) command.addOption(option);
  command.action(async (flags: ServeFlags) => {
    keepWritingWithoutReader();
    if (flags.demo) resolveNamedDataDir('mnist');
    const token = flags.token ?? process.env.ROBUST_NAS_TOKEN;
    const allowedHosts = allowedHostsFrom(flags.allowedHost, process.env[ALLOWED_HOSTS_ENV_VAR]);
    const maxMemoryMB = memoryLimitMB(flags.maxMemoryMb);
    const studiesDirs = checkStudiesDirs(flags.studiesDir);
    if (flags.workers !== undefined && flags.queue !== undefined) {
      throw new InputError('give either --workers (a local pool) or --queue (Redis), not both');
    }
    // The real evaluations of every run go where --workers / --queue say, else to every core. The
    // queue's Redis is reached now (an unreachable one is an error at start, not at the first
    // run), and so is a pool asked for (its workers warm); the default pool starts with the first
    // real run (a server that only shows runs never loads TensorFlow.js).
    let evaluator: RunEvaluator | undefined;
    if (flags.workers !== undefined || flags.queue !== undefined || flags.demo) {
      evaluator = await openEvaluator(placementOf(undefined, flags), {
        report: (line) => complain(`robust-nas: ${line}`),
      });
      say(`robust-nas: ${evaluator.description}`);
    }
    const placed = evaluator;
    const server = await startServer({
      host: flags.host,
      port: flags.port,
      runsDir: runsDirOf(flags),
      allowedHosts,
      maxMemoryMB,
      downloadData: flags.downloadData === true,
      ...(studiesDirs.length > 0 ? { studiesDirs } : {}),
      ...(token ? { token } : {}),
      ...(placed
        ? {
            engine: createSearchEngine({ runsDir: runsDirOf(flags), evaluator: placed }),
          }
        : {}),
    });
    say(`robust-nas: dashboard at ${server.url}`);
    if (token) say('robust-nas: the API and the live feed need the token');
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      say(`robust-nas: ${signal}: pausing running searches and stopping`);
      server
        .close()
        .then(() => evaluator?.close())
        .then(
          () => process.exit(0),
          (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            complain(`robust-nas: could not stop cleanly: ${message}`);
            process.exit(1);
          },
        );
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    if (flags.demo) {
      const demo = await startDemo(server);
      const how =
        demo.fallback === undefined
          ? 'real evaluator, tiny network on MNIST'
          : `surrogate evaluator (scores are not accuracy; real evaluator unavailable: ${demo.fallback})`;
      const did =
        demo.action === 'resumed'
          ? 'continued'
          : demo.action === 'started'
            ? 'started'
            : 'running in another process';
      say(
        `robust-nas: demo search ${demo.run.id} ${did} (${how}): ${server.url}#run=${demo.run.id}`,
      );
      say(`robust-nas: ${demo.reason}`);
      if (demo.action !== 'running-elsewhere') {
        say(
          `robust-nas: the demo should take ${demo.estimate.text}; Ctrl-C pauses it, the next npm start continues it`,
        );
      }
    }
  });
}
