import type { API } from 'homebridge';
import { GlucoBridgePlatform } from './platform';
import { PLATFORM_NAME } from './settings';

/** Homebridge calls this once when it loads the package. */
export = (api: API): void => {
  api.registerPlatform(PLATFORM_NAME, GlucoBridgePlatform);
};
