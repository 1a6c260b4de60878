import type { Command } from 'commander';

/** Registers the `info` command(s). Placeholder until its issue lands: registers nothing yet. */
export function registerInfoCommand(_program: Command): void {}
