/**
 * An append-only JSON-lines journal: one JSON value per line, each append fsynced. Reading ignores a
 * torn last line (what a kill during an append leaves); any other unreadable line means the file is
 * corrupt.
 */
import { open, readFile, truncate } from 'node:fs/promises';

export interface JournalContents {
  readonly values: unknown[];
  /** Byte length of the complete lines (where the next append must start). */
  readonly validBytes: number;
  /** True when a torn (incomplete) last line was ignored. */
  readonly torn: boolean;
}

export class JournalCorruptError extends Error {
  override name = 'JournalCorruptError';
}

/** Parses journal text; throws JournalCorruptError for an unreadable line other than a torn last one. */
export function parseJournal(text: string): JournalContents {
  const values: unknown[] = [];
  let pos = 0;
  let line = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl;
    const chunk = text.slice(pos, end);
    line++;
    if (nl === -1) {
      // Last line without its newline: keep it only if it is whole.
      try {
        values.push(JSON.parse(chunk));
        return { values, validBytes: Buffer.byteLength(text), torn: false };
      } catch {
        return { values, validBytes: Buffer.byteLength(text.slice(0, pos)), torn: true };
      }
    }
    if (chunk.trim() !== '') {
      try {
        values.push(JSON.parse(chunk));
      } catch {
        throw new JournalCorruptError(`line ${line} is not valid JSON`);
      }
    }
    pos = nl + 1;
  }
  return { values, validBytes: Buffer.byteLength(text), torn: false };
}

export async function readJournal(path: string): Promise<JournalContents> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { values: [], validBytes: 0, torn: false };
    }
    throw err;
  }
  return parseJournal(text);
}

/** An open journal for appending. */
export class JournalWriter {
  private constructor(
    private readonly fh: import('node:fs/promises').FileHandle,
    readonly path: string,
  ) {}

  /**
   * Opens the journal for appending after its complete lines: a torn last line is cut off, and a
   * whole last line missing its newline gets one.
   */
  static async open(path: string, contents: JournalContents): Promise<JournalWriter> {
    const fh = await open(path, 'a+');
    const { size } = await fh.stat();
    if (contents.torn && size > contents.validBytes) {
      await truncate(path, contents.validBytes);
    } else if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) await fh.appendFile('\n');
    }
    return new JournalWriter(fh, path);
  }

  /** Appends one value as a line and fsyncs it. */
  async append(value: unknown): Promise<void> {
    await this.fh.appendFile(`${JSON.stringify(value)}\n`, 'utf8');
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
