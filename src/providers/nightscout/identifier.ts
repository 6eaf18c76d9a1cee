import { createHash } from 'node:crypto';
import { V3_IDENTIFIER_NAMESPACE } from './constants';

/** A name-based UUID (RFC 4122 version 5: SHA-1 of namespace + name). */
export function uuidV5(name: string, namespace: Buffer): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The v3 `identifier` of an entry: the UUID the server itself derives from `device` and `date` when
 * a document comes without one (`calculateIdentifier`), so a resend is recognised as the same document.
 */
export function entryIdentifier(device: string, date: number): string {
  return uuidV5(`${device}_${date}`, V3_IDENTIFIER_NAMESPACE);
}
