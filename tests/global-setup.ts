import { execFileSync } from 'node:child_process';

/** Tests that run the real `robust-nas` command need a fresh build of dist/. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
