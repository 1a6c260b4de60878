/**
 * The dashboard's reach into the rest of the code (issue 10): it imports only src/core/, and its
 * bundle (esbuild, for the browser) pulls in no Node-only module (node:crypto through
 * core/canonical.ts, say).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DASHBOARD = join(ROOT, 'dashboard/src');

describe('the dashboard', () => {
  it('imports nothing of the project but src/core/', () => {
    const outside: string[] = [];
    for (const name of readdirSync(DASHBOARD).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(DASHBOARD, name), 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) continue; // packages (socket.io-client)
        const target = relative(ROOT, resolve(DASHBOARD, spec));
        if (!target.startsWith('dashboard/src/') && !target.startsWith('src/core/')) {
          outside.push(`${name}: ${spec}`);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  it('bundles for the browser without Node-only modules', async () => {
    const result = await build({
      entryPoints: [join(DASHBOARD, 'main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      outfile: join(ROOT, 'dashboard/dist/check.js'),
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const project = inputs.filter((i) => !i.includes('node_modules'));
    expect(project.filter((i) => !/^(dashboard\/src|src\/core)\//.test(i))).toEqual([]);
    expect(inputs.filter((i) => i.startsWith('node:') || i.includes('canonical'))).toEqual([]);
    expect(project).toContain('src/core/run-view.ts');
    expect(project).toContain('src/core/live-feed.ts');
  });
});
