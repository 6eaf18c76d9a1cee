import { PACKAGE_NAME } from '../src/version';

/** The name users write as `"platform"` in config.json; config.schema.json's pluginAlias must match. */
export const PLATFORM_NAME = 'GlucoBridge';

/** Homebridge identifies the plugin by its package name when accessories are registered. */
export const PLUGIN_NAME = PACKAGE_NAME;

/** Where session tokens are kept, below Homebridge's storage path. */
export const SESSION_FILE = 'glucobridge-sessions.json';
