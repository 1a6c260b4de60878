// `npm run bench`: bundles bench/bench.ts (TypeScript, with the src/ modules it uses) into
// dist-bench/bench.mjs with esbuild, a devDependency already, and runs it with the same arguments.
// Packages stay external, so the bundle loads them from node_modules like the rest of the project.
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outfile = join(root, 'dist-bench', 'bench.mjs');
await build({
  entryPoints: [join(root, 'bench', 'bench.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
await import(pathToFileURL(outfile).href);
