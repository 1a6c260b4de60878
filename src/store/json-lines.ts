/**
 * An append-only JSON-lines journal: one JSON value per line, each append fsynced. Reading ignores a
 * torn last line (what a kill during an append leaves); any other unreadable line means the file is
 * corrupt. Parsing works on bytes and reports where each line starts, so a reader can later read
 * only what was appended after a known offset.
 */
import { open, readFile } from 'node:fs/promises';

export interface JournalContents {
  readonly values: unknown[];
  /** Byte offset of the line of each value (aligned with `values`). */
  readonly starts: number[];
  /** Byte length of the complete lines (where the next append must start). */
  readonly validBytes: number;
  /** True when a torn (incomplete) last line was ignored. */
  readonly torn: boolean;
  /** True when the last complete line has no newline (a whole value cut right before it). */
  readonly missingNewline: boolean;
}

export class JournalCorruptError extends Error {
  override name = 'JournalCorruptError';
  constructor(
    /** 1-based line number within the bytes parsed. */
    readonly line: number,
  ) {
    super(`line ${line} is not valid JSON`);
  }
}

const NEWLINE = 0x0a;

/**
 * Parses journal bytes that start at byte `base` of the file (`firstLine` is the number of the
 * line at `base`, for messages); throws JournalCorruptError for an unreadable line other than a
 * torn last one. `validBytes` and `starts` are file offsets.
 */
export function parseJournalBytes(bytes: Uint8Array, base = 0, firstLine = 1): JournalContents {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: unknown[] = [];
  const starts: number[] = [];
  let pos = 0;
  let line = firstLine - 1;
  while (pos < buf.length) {
    const nl = buf.indexOf(NEWLINE, pos);
    const end = nl === -1 ? buf.length : nl;
    const chunk = buf.toString('utf8', pos, end);
    line++;
    if (nl === -1) {
      // Last line without its newline: keep it only if it is whole.
      try {
        const value: unknown = JSON.parse(chunk);
        values.push(value);
        starts.push(base + pos);
        return { values, starts, validBytes: base + buf.length, torn: false, missingNewline: true };
      } catch {
        return { values, starts, validBytes: base + pos, torn: true, missingNewline: false };
      }
    }
    if (chunk.trim() !== '') {
      try {
        values.push(JSON.parse(chunk));
        starts.push(base + pos);
      } catch {
        throw new JournalCorruptError(line);
      }
    }
    pos = nl + 1;
  }
  return { values, starts, validBytes: base + buf.length, torn: false, missingNewline: false };
}

/** Parses journal text (see parseJournalBytes). */
export function parseJournal(text: string): JournalContents {
  return parseJournalBytes(Buffer.from(text, 'utf8'));
}

/** Reads and parses a whole journal; a missing file is an empty journal. */
export async function readJournal(path: string): Promise<JournalContents> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { values: [], starts: [], validBytes: 0, torn: false, missingNewline: false };
    }
    throw err;
  }
  return parseJournalBytes(bytes);
}

/** The bytes of a file from `offset` to its end (empty when the file is shorter or missing). */
export async function readFrom(path: string, offset: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  }
  try {
    const { size } = await fh.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}
