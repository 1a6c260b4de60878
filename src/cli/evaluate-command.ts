import type { Command } from 'commander';

/** Registers the `evaluate` command(s). Placeholder until its issue lands: registers nothing yet. */
export function registerEvaluateCommand(_program: Command): void {}
