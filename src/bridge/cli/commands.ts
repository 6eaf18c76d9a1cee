import type { Command } from './io';

/** Every subcommand of `glucobridge`, one module each. */
export const COMMANDS: Record<string, Command> = {};

export const USAGE = `glucobridge <command> [options]

commands:
`;
