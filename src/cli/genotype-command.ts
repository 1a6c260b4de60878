import type { Command } from 'commander';

/** Registers the `genotype` command(s). Placeholder until its issue lands: registers nothing yet. */
export function registerGenotypeCommands(_program: Command): void {}
