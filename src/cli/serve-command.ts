import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { resolveNamedDataDir } from '../evaluator/datasets/locate.js';
import { startDemo } from '../server/demo.js';
import { startServer } from '../server/server.js';

interface ServeFlags {
  host: string;
  port: string;
  runsDir?: string;
  token?: string;
  demo?: boolean;
}

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new InputError(`--port must be an integer from 0 to 65535, got '${text}'`);
  }
  return Number(text);
}

/** Registers `robust-nas serve`: the REST API, the live feed and the dashboard. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'Serve the dashboard, the REST API and the live Pareto front (socket.io); Ctrl-C pauses running searches and exits.',
    )
    .option('--host <host>', 'address to bind (a non-loopback address needs --token)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '3000')
    .option('--runs-dir <dir>', 'folder of the runs (default: $ROBUST_NAS_RUNS or ./runs)')
    .option(
      '--token <token>',
      'bearer token required to start and control runs (default: env ROBUST_NAS_TOKEN)',
    )
    .option('--demo', 'also start a small demo search on the bundled MNIST data')
    .action(async (flags: ServeFlags) => {
      const port = parsePort(flags.port);
      // The demo trains on MNIST: a ROBUST_NAS_DATA without it is an error now, not at its first
      // evaluation.
      if (flags.demo) resolveNamedDataDir('mnist');
      const token = flags.token ?? process.env.ROBUST_NAS_TOKEN;
      const server = await startServer({
        host: flags.host,
        port,
        runsDir: flags.runsDir ?? process.env.ROBUST_NAS_RUNS ?? 'runs',
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
