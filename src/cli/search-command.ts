import type { Command } from 'commander';

/** Registers the `search` command(s). Placeholder until its issue lands: registers nothing yet. */
export function registerSearchCommands(_program: Command): void {}
