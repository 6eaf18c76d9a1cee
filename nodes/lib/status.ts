import { toCgmError, type CgmError } from '../../src/model/errors';
import { unitLabel, valueIn, type GlucoseReading, type GlucoseUnit } from '../../src/model/reading';
import type { Node, NodeDone, NodeMessage, NodeStatus } from './types';

/** Green: the value in the account's unit with its arrow, e.g. `112 mg/dL →`. */
export function readingStatus(reading: GlucoseReading, unit: GlucoseUnit): NodeStatus {
  return {
    fill: 'green',
    shape: 'dot',
    text: `${valueIn(reading, unit)} ${unitLabel(unit)} ${reading.arrow}`,
  };
}

/** Yellow: the last value is too old to act on; `staleText` is the localised word for it. */
export function staleStatus(
  last: GlucoseReading | undefined,
  unit: GlucoseUnit,
  staleText: string,
): NodeStatus {
  const value = last ? `${valueIn(last, unit)} ${unitLabel(unit)} ` : '';
  return { fill: 'yellow', shape: 'ring', text: `${value}${staleText}` };
}

/** Red: the stable error code, which people can search the help and the logs for. */
export function errorStatus(error: CgmError): NodeStatus {
  return { fill: 'red', shape: 'ring', text: error.code };
}

/**
 * A CgmError as Node-RED reports it: its text (the log line, and `msg.error.message` at a Catch node)
 * is `CODE: message (hint: …)`, and `code` becomes `msg.error.code`. Node-RED prints `toString()`,
 * which for a plain Error would prefix the class name instead of the code.
 */
export class NodeRedError extends Error {
  readonly code: CgmError['code'];
  readonly hint: string | undefined;

  constructor(error: CgmError) {
    super(`${error.code}: ${error.message}${error.hint ? ` (hint: ${error.hint})` : ''}`);
    this.name = 'NodeRedError';
    this.code = error.code;
    this.hint = error.hint;
  }

  override toString(): string {
    return this.message;
  }
}

/**
 * The one way an input handler fails: red status, then `done(err)` so Catch nodes get the message
 * with `msg.error.code` (or, without a Catch node, one [error] line). Whatever was thrown becomes a
 * CgmError first.
 */
export function failInput(node: Node<unknown>, thrown: unknown, done: NodeDone): CgmError {
  const error = toCgmError(thrown);
  node.status(errorStatus(error));
  done(new NodeRedError(error));
  return error;
}

/**
 * Errors without an input message (the poll timer, a push): red status and `node.error(err, msg)`,
 * which reaches Catch nodes just as `done(err)` does, with the error's JSON as `msg.payload`.
 */
export function failBackground(node: Node<unknown>, thrown: unknown, msg: NodeMessage = {}): CgmError {
  const error = toCgmError(thrown);
  node.status(errorStatus(error));
  node.error(new NodeRedError(error), { ...msg, payload: error.toJSON() });
  return error;
}

/**
 * Runs an input handler's async work so that nothing escapes as an unhandled rejection: a throw or
 * rejection goes through `failInput`.
 */
export function guardInput(node: Node<unknown>, done: NodeDone, work: () => Promise<void>): void {
  work().catch((thrown: unknown) => {
    try {
      failInput(node, thrown, done);
    } catch {
      // done() itself failed (the node was closed meanwhile): nothing left to tell.
    }
  });
}

/** A node that cannot work (no account, a bad option): red status now, and every input fails with the reason. */
export function refuseInput(node: Node<unknown>, error: CgmError): void {
  node.status(errorStatus(error));
  node.on('input', (_msg, _send, done) => void failInput(node, error, done));
}
