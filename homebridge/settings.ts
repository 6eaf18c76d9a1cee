import { PACKAGE_NAME } from '../src/version';

/** The name users write as `"platform"` in config.json; config.schema.json's pluginAlias must match. */
export const PLATFORM_NAME = 'GlucoBridge';

/** Homebridge identifies the plugin by its package name when accessories are registered. */
export const PLUGIN_NAME = PACKAGE_NAME;

/** The state store (sessions, refused credentials, known people), below Homebridge's storage path. */
export const STATE_FILE = 'glucobridge-state.json';

/** Where release 0.1 kept session tokens; taken over once into the state file. */
export const LEGACY_SESSION_FILE = 'glucobridge-sessions.json';
