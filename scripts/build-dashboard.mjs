#!/usr/bin/env node
/**
 * Bundles the dashboard (dashboard/src/main.ts and the socket.io client from npm) into
 * dashboard/dist/app.js with esbuild, one ES module, and copies dashboard/style.css next to it:
 * no CDN, works offline.
 */
import { copyFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [resolve(root, 'dashboard/src/main.ts')],
  outfile: resolve(root, 'dashboard/dist/app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: process.env.DASHBOARD_DEV !== '1',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(resolve(root, 'dashboard/style.css'), resolve(root, 'dashboard/dist/style.css'));
