import type { Command } from 'commander';
import { z } from 'zod';
import { startDemo } from '../server/demo.js';
import { startServer } from '../server/server.js';
import { runsDirOf } from './runs-access.js';
import { schemaOption } from './zod-options.js';

interface ServeFlags {
  host: string;
  port: number;
  runsDir?: string;
  token?: string;
  demo?: boolean;
}

const portSchema = z.number().int().min(0).max(65535).default(3000);

/** Registers `robust-nas serve`: the REST API, the live feed and the dashboard. */
export function registerServeCommand(program: Command): void {
  program
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
      'bearer token required to start and control runs (default: env ROBUST_NAS_TOKEN)',
    )
    .option('--demo', 'also start a small demo search on the bundled MNIST data')
    .action(async (flags: ServeFlags) => {
      const token = flags.token ?? process.env.ROBUST_NAS_TOKEN;
      const server = await startServer({
        host: flags.host,
        port: flags.port,
        runsDir: runsDirOf(flags),
        ...(token ? { token } : {}),
      });
      process.stdout.write(`robust-nas: dashboard at ${server.url}\n`);
      if (token)
        process.stdout.write('robust-nas: starting and controlling runs needs the token\n');
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`robust-nas: ${signal}: pausing running searches and stopping\n`);
        server.close().then(
          () => process.exit(0),
          (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            process.stderr.write(`robust-nas: could not stop cleanly: ${message}\n`);
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
        process.stdout.write(
          `robust-nas: demo search ${demo.run.id} started (${how}): ${server.url}#run=${demo.run.id}\n`,
        );
      }
    });
}
