import type { Command } from 'commander';

/** Registers the `bench` command(s). Placeholder until its issue lands: registers nothing yet. */
export function registerBenchCommand(_program: Command): void {}
