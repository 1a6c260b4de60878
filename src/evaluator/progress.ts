/**
 * Progress bars on stderr, shown only when stderr is a terminal (never in pipes, logs or tests).
 */
import cliProgress from 'cli-progress';

export interface ProgressBar {
  update(done: number, total?: number): void;
  stop(): void;
}

const SILENT: ProgressBar = { update: () => {}, stop: () => {} };

/** Whether bars are drawn: stderr is a TTY and ROBUST_NAS_NO_PROGRESS is unset. */
export function progressEnabled(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.ROBUST_NAS_NO_PROGRESS;
}

/** A bar labelled `label` counting to `total`; a silent stand-in when bars are disabled. */
export function createProgressBar(label: string, total: number, unit = ''): ProgressBar {
  if (!progressEnabled()) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(12)} [{bar}] {percentage}% | {value}/{total}${unit} | {duration_formatted} elapsed, ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let stopped = false;
  return {
    update(done, newTotal) {
      if (stopped) return;
      if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(done);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
