/** run.json's text (one JSON line) and the lowdb adapter that writes it. */
import { DataFile } from 'lowdb/node';
import type { RunFile } from '../core/records.js';

export const runFileText = (file: RunFile) => `${JSON.stringify(file)}\n`;

/** lowdb's own node adapter (steno: temp file then rename), writing run.json as one JSON line. */
export function runFileAdapter(path: string): DataFile<RunFile> {
  return new DataFile<RunFile>(path, {
    parse: (text) => JSON.parse(text) as RunFile,
    stringify: runFileText,
  });
}
