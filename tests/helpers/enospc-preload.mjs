/**
 * A full disk, injected into a real `robust-nas` process (`node --import <this file> dist/cli.js`):
 * after ROBUST_NAS_TEST_ENOSPC_AFTER appends to a file whose name ends with
 * ROBUST_NAS_TEST_ENOSPC_FILE (default evaluations.jsonl), every further append and write through
 * that handle fails as the kernel fails it on a full disk (ENOSPC, errno -28). Nothing else of the
 * process is changed. Node keeps the ESM named exports of a built-in in step with its module object
 * through syncBuiltinESMExports, so every `import { open } from 'node:fs/promises'` sees this.
 */
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

const suffix = process.env.ROBUST_NAS_TEST_ENOSPC_FILE ?? 'evaluations.jsonl';
let left = Number(process.env.ROBUST_NAS_TEST_ENOSPC_AFTER ?? '0');
const realOpen = fsp.open;

function enospc(syscall) {
  return Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), {
    code: 'ENOSPC',
    errno: -28,
    syscall,
  });
}

fsp.open = async function open(path, flags, mode) {
  const fh = await realOpen(path, flags, mode);
  if (String(path).endsWith(suffix) && (flags === 'a' || flags === 'a+')) {
    const append = fh.appendFile.bind(fh);
    const write = fh.writeFile.bind(fh);
    fh.appendFile = async (data, options) => {
      if (left <= 0) throw enospc('write');
      left -= 1;
      return append(data, options);
    };
    fh.writeFile = async (data, options) => {
      if (left <= 0) throw enospc('write');
      left -= 1;
      return write(data, options);
    };
  }
  return fh;
};
syncBuiltinESMExports();
