/** A study as GET /api/studies lists it (src/server/studies.ts) and the dashboard shows it. */
export interface StudyOverview {
  /** The study folder's name (unique among those listed). */
  readonly name: string;
  /** The folder, as the server sees it. */
  readonly dir: string;
  readonly budget?: string;
  readonly datasets?: readonly string[];
  readonly seeds?: number;
  /** 'running' while a process holds the study's lock, 'finished' once report.html is there. */
  readonly status: 'running' | 'stopped' | 'finished' | 'unreadable';
  /** Journal lines (evaluations finished or failed). */
  readonly done: number;
  /** Of them, failed. */
  readonly failed: number;
  /** Evaluations the study's plan holds (absent when it cannot be computed). */
  readonly planned?: number;
  readonly report: boolean;
  readonly updatedAt?: string;
  /** Why the folder cannot be read. */
  readonly error?: string;
}
