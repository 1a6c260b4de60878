/**
 * /api/studies: the study folders the server was told about (studies.ts), each with its progress
 * (journal lines against the plan) and, once written, its report.html. Read-only; a study is named
 * by its folder's name as listed, never by a path, so only report.html files of listed study folders
 * are served (with a Content-Security-Policy that lets the self-contained report run no script and
 * load nothing).
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { NotFoundError } from './http-errors.js';
import { REPORT_FILE, type StudyIndex } from './studies.js';
import { parseOrThrow } from './validation.js';

const studyParamsSchema = z.object({
  name: z
    .string()
    .max(200)
    .regex(/^[^/\\\0]+$/, 'a study folder name (no slashes)')
    .refine((n) => n !== '.' && n !== '..', 'a study folder name'),
});

function studyName(req: Request): string {
  return parseOrThrow(studyParamsSchema, req.params, 'study name').name;
}

export function studiesRouter(index: StudyIndex | undefined): Router {
  const router = Router();

  router.get('/', async (_req, res) => {
    res.json({ studies: index ? await index.list() : [] });
  });

  router.get('/:name', async (req, res) => {
    const name = studyName(req);
    const dir = index ? await index.folder(name) : undefined;
    if (!index || !dir) throw new NotFoundError(`unknown study: ${name}`);
    res.json({ study: await index.overview(name, dir) });
  });

  router.get('/:name/report.html', async (req, res) => {
    const name = studyName(req);
    const dir = index ? await index.folder(name) : undefined;
    if (!dir) throw new NotFoundError(`unknown study: ${name}`);
    const file = join(dir, REPORT_FILE);
    if (!existsSync(file)) {
      throw new NotFoundError(
        `study ${name} has no report yet (it is written when the study ends)`,
      );
    }
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('text/html; charset=utf-8');
    res.sendFile(file, { dotfiles: 'deny' });
  });

  return router;
}
