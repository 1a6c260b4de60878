/**
 * The headless Chromium the dashboard's end-to-end test drives, from what npm installs:
 *   1. CHROMIUM_PATH, when set (a browser of the user's choosing; it must exist);
 *   2. else the Chromium that the devDependency @sparticuz/chromium carries (Linux x64): its
 *      brotli-compressed browser (bin/chromium.br), the NSS and expat libraries it was built against
 *      (bin/al2023.tar.br) and a font (bin/fonts.tar.br), unpacked once into
 *      node_modules/.cache/robust-nas-chromium/<version>/ and reused. The browser is started with
 *      LD_LIBRARY_PATH at those libraries and FONTCONFIG_PATH at that font, so it needs neither a
 *      system Chromium nor the system's NSS libraries nor its fonts. Nothing is downloaded.
 * The package's own `executablePath()` is not used: it unpacks into a fixed /tmp/chromium shared by
 * every checkout on the machine, without an atomic rename, and leaves out the libraries off AWS.
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';

const ROOT = resolve(import.meta.dirname, '../..');
const PACKAGE = '@sparticuz/chromium';

export interface TestChromium {
  /** The browser's executable. */
  readonly executablePath: string;
  /** The environment to start it with (LD_LIBRARY_PATH and FONTCONFIG_PATH for the packaged one). */
  readonly env: Record<string, string>;
  /** Where it came from, for the test's log. */
  readonly description: string;
}

/** Chromium flags for a headless browser that talks to nothing but the test's own server. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--no-zygote',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

/** CHROMIUM_PATH if set, else the packaged Chromium (unpacked on first use). */
export async function testChromium(): Promise<TestChromium> {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    if (!existsSync(chosen)) {
      throw new Error(
        `CHROMIUM_PATH=${chosen} does not exist: unset it to use the packaged Chromium`,
      );
    }
    return { executablePath: chosen, env: processEnv(), description: `CHROMIUM_PATH=${chosen}` };
  }
  return packagedChromium();
}

/** The folder of @sparticuz/chromium and its version. */
async function packageDir(): Promise<{ dir: string; version: string }> {
  let entry: string;
  try {
    entry = createRequire(join(ROOT, 'package.json')).resolve(PACKAGE);
  } catch {
    throw new Error(`${PACKAGE} is not installed: run npm install (it is a devDependency)`);
  }
  // build/cjs/index.cjs -> the package root
  const dir = resolve(dirname(entry), '../..');
  const { version } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { dir, version };
}

export async function packagedChromium(): Promise<TestChromium> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `${PACKAGE} carries a Chromium for Linux x64 only (this is ${process.platform} ${process.arch}): set CHROMIUM_PATH to a Chromium or Chrome`,
    );
  }
  const { dir, version } = await packageDir();
  const target = join(ROOT, 'node_modules', '.cache', 'robust-nas-chromium', version);
  if (!existsSync(join(target, 'complete'))) await unpack(join(dir, 'bin'), target);
  const env = processEnv();
  const lib = join(target, 'lib');
  env.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${lib}:${env.LD_LIBRARY_PATH}` : lib;
  env.FONTCONFIG_PATH = join(target, 'fontconfig');
  return {
    executablePath: join(target, 'chromium'),
    env,
    description: `${PACKAGE} ${version} (${target})`,
  };
}

/**
 * Unpacks the browser, its libraries and its font into a temporary sibling of `target`, then
 * renames it into place, so that an interrupted or concurrent unpack never leaves a partial copy
 * under the real name.
 */
async function unpack(bin: string, target: string): Promise<void> {
  const temp = `${target}.${process.pid}.part`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  try {
    const browser = join(temp, 'chromium');
    await pipeline(
      createReadStream(join(bin, 'chromium.br')),
      createBrotliDecompress({ chunkSize: 2 ** 21 }),
      createWriteStream(browser),
    );
    await chmod(browser, 0o755);
    for (const [archive, into] of [
      ['al2023.tar.br', temp], // lib/libnss3.so, lib/libnspr4.so, lib/libexpat.so.1, ...
      ['fonts.tar.br', join(temp, 'fontconfig')], // fonts/Open_Sans/*.ttf
    ] as const) {
      await extractTar(brotliDecompressSync(await readFile(join(bin, archive))), into, archive);
    }
    const fonts = join(temp, 'fontconfig');
    // The package's fonts.conf names AWS Lambda's folders; ours names where the font was put, then
    // the usual system font folders (used where they exist, e.g. for arrows Open Sans lacks).
    const dirs = [
      join(target, 'fontconfig', 'fonts'),
      '/usr/share/fonts',
      '/usr/local/share/fonts',
    ];
    await writeFile(
      join(fonts, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
        dirs.map((d) => `  <dir>${d}</dir>\n`).join('') +
        `  <cachedir>${join(target, 'fontconfig', 'cache')}</cachedir>\n</fontconfig>\n`,
    );
    await writeFile(join(temp, 'complete'), `${new Date().toISOString()}\n`);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(temp, target);
    } catch (err) {
      // Another process finished first: use its copy.
      if (!existsSync(join(target, 'complete'))) throw err;
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** Writes the regular files and folders of an (uncompressed, ustar) tar archive under `folder`. */
async function extractTar(tar: Buffer, folder: string, name: string): Promise<void> {
  let at = 0;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return;
    const field = (from: number, length: number): string =>
      header
        .subarray(from, from + length)
        .toString('latin1')
        .replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const path = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const out = resolve(folder, path);
    if (!Number.isFinite(size) || size < 0 || at + 512 + size > tar.length) {
      throw new Error(`${name}: corrupt or truncated tar archive at '${path}'`);
    }
    if (out !== folder && !out.startsWith(`${folder}/`)) {
      throw new Error(`${name}: member '${path}' would be written outside ${folder}`);
    }
    if (type === '5') {
      await mkdir(out, { recursive: true });
    } else if (type === '0') {
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, tar.subarray(at + 512, at + 512 + size), {
        mode: parseInt(field(100, 8).trim() || '644', 8) & 0o755,
      });
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${name}: tar archive ends without its end marker`);
}
