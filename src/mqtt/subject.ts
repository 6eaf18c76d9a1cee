import { createHash } from 'node:crypto';
import slugify from 'slugify';
import type { Thresholds } from '../config';
import { CgmError } from '../model/errors';
import type { GlucoseUnit, ProviderId } from '../model/reading';
import { BRIDGE_KEY } from './topics';

/** Glucose limits in mg/dL; a reading at or beyond one sets the matching flag. */
export type { Thresholds };

/** The measurement kinds that get their own Home Assistant entities (VitaDock). */
export type DiscoverableKind = 'weight' | 'bloodPressure' | 'temperature';
export const DISCOVERABLE_KINDS: readonly DiscoverableKind[] = ['weight', 'bloodPressure', 'temperature'];

/** Everything the MQTT layer needs to know about one person whose readings it publishes. */
export interface SubjectDescriptor {
  /** Stable topic and id segment: `subjectSlug(name)`. Never a secret or an e-mail address. */
  key: string;
  /** What Home Assistant shows as the device name. */
  name: string;
  provider: ProviderId;
  units: GlucoseUnit;
  thresholds: Thresholds;
  /** After how long without a new reading the data counts as stale (also `expire_after`). */
  staleMinutes: number;
  /** False for a spot-check device (VitaDock): never stale, no `expire_after`. Default true. */
  continuous?: boolean;
  /** Non-glucose measurements this subject has, e.g. `['weight', 'bloodPressure']`. */
  measurementKinds?: readonly string[];
  /** The cloud reports the person's sensor (LibreLinkUp): its serial, start and end get entities. */
  sensor?: boolean;
}

const SLUG = /^[a-z0-9]+(?:_[a-z0-9]+)*$/;
const MAX_SLUG = 48;

/**
 * The stable key of a name: lower case, accents folded, letters of other scripts transliterated
 * ("Мария" → `mariya`), every other run of characters one `_`. A name with no letter or digit that can
 * be written so (Chinese, Japanese) gets `p_` and a hash of the name: stable, and the display name stays.
 * A name that looks like an e-mail address is refused rather than trimmed at the `@`: the key ends up
 * in topics and entity ids that anyone on the broker can read, and "anna.smith" from
 * "anna.smith@example.org" still identifies the person's login. The configuration must give a name.
 */
export function subjectSlug(name: string): string {
  if (name.includes('@')) {
    throw new CgmError('CONFIG', 'An account name must not be an e-mail address: it becomes an MQTT topic.', {
      hint: 'Give the account a "name" such as "Anna"; the login stays in the username field.',
    });
  }
  const folded = [...name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '')]
    .map((ch) => (/[\p{L}\p{N}]/u.test(ch) && !/[a-z0-9]/i.test(ch) ? transliterate(ch) : ch))
    .join('');
  const slug = trimSlug(folded.toLowerCase().replace(/[^a-z0-9]+/g, '_'));
  if (slug === BRIDGE_KEY) {
    throw new CgmError(
      'CONFIG',
      `An account cannot be named "${name}": its topics belong to the bridge itself.`,
      {
        hint: 'Give the account another "name", such as the person\'s first name.',
      },
    );
  }
  if (slug !== '') return slug;
  if (/[\p{L}\p{N}]/u.test(name)) {
    return `p_${createHash('sha256').update(name.normalize('NFC').trim()).digest('hex').slice(0, 10)}`;
  }
  throw new CgmError('CONFIG', 'An account name needs at least one letter or digit to make an MQTT topic.', {
    hint: 'Give the account a "name" such as "Anna".',
  });
}

/** One letter of another script in Latin letters ("я" → "ya"), or "" when there is no such spelling. */
function transliterate(ch: string): string {
  return slugify(ch, { lower: true, strict: true, trim: true });
}

function trimSlug(slug: string): string {
  return slug
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_SLUG)
    .replace(/_+$/, '');
}

/** Checks a descriptor before it reaches a topic or Home Assistant; throws a CONFIG error. */
export function validateSubject(subject: SubjectDescriptor): void {
  const fail = (message: string): never => {
    throw new CgmError('CONFIG', `MQTT subject "${subject.key}": ${message}`);
  };
  if (!SLUG.test(subject.key) || subject.key.length > MAX_SLUG) fail('key must be a slug (use subjectSlug)');
  if (subject.key === BRIDGE_KEY) fail(`key "${BRIDGE_KEY}" is the bridge's own`);
  if (subject.name.trim() === '' || subject.name.includes('@')) fail('name must be a name, not an e-mail');
  const { urgentLow, low, high } = subject.thresholds;
  if (![urgentLow, low, high].every((v) => Number.isFinite(v) && v > 0)) fail('thresholds must be positive');
  if (!(urgentLow <= low && low < high)) fail('thresholds must satisfy urgentLow <= low < high');
  if (!Number.isFinite(subject.staleMinutes) || subject.staleMinutes <= 0) fail('staleMinutes must be > 0');
}

/** The measurement kinds of a subject that have entities, in a fixed order. */
export function discoverableKinds(subject: SubjectDescriptor): DiscoverableKind[] {
  const wanted = new Set(subject.measurementKinds ?? []);
  return DISCOVERABLE_KINDS.filter((kind) => wanted.has(kind));
}
