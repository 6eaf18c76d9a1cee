/** What the core needs from its host's logger (Node-RED node, Homebridge log, the CLI). */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** For hosts that want silence (tests, library use without a logger). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
