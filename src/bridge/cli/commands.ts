import { bridgeCommand } from './bridge';
import { followersCommand } from './followers';
import type { Command } from './io';
import { readCommand } from './read';
import { simulateCommand } from './simulate';
import { uploadCommand } from './upload';
import { vitadockCommand } from './vitadock';

/** Every subcommand of `glucobridge`, one module each. */
export const COMMANDS: Record<string, Command> = {
  read: readCommand,
  bridge: bridgeCommand,
  simulate: simulateCommand,
  upload: uploadCommand,
  followers: followersCommand,
  vitadock: vitadockCommand,
};

export const USAGE = `glucobridge <command> [options]

commands:
  read       print the latest reading or a span of history of one account
  bridge     the stand-alone service: accounts → MQTT with Home Assistant discovery (--demo: no setup)
  simulate   serve the clouds (and Nightscout sites) on loopback with demo accounts, for trying and testing
  upload     send readings (JSON on stdin) to Dexcom Share as the account's uploader
  followers  list, invite or remove the people following a Dexcom account
  vitadock   authorize: grant GlucoBridge access to a VitaDock Online account (OAuth, stores the tokens)
  (glucobridge <command> --help for the options of each)
`;
