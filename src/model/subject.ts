import { CgmError } from './errors';

/** Someone whose glucose a source can read (a LibreLinkUp patient; the Dexcom account itself). */
export interface Subject {
  /** The provider's own id (LibreLinkUp patientId, the Dexcom account's subject, …). */
  id: string;
  /** The person's name as the cloud gives it (or as configured). */
  name: string;
}

const fold = (text: string): string => text.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase();
const firstName = (name: string): string => fold(name).split(' ')[0] ?? '';

/**
 * The one rule that picks a person from those an account follows, used by every host and the CLI:
 * the provider's id, then the exact name, then the name in any case and spacing, then, when only a
 * first name is given, the one person with that first name. Anything else is `NOT_FOUND` naming who
 * is followed: never another person (a near name such as "Anna Smyth" never picks "Anna Smith").
 */
export function chooseSubject(subjects: readonly Subject[], wanted: string): Subject {
  const byId = subjects.find((s) => s.id === wanted);
  if (byId) return byId;
  const exact = subjects.filter((s) => s.name === wanted);
  if (exact.length === 1) return exact[0]!;
  const target = fold(wanted);
  const named = subjects.filter((s) => fold(s.name) === target);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) throw ambiguous(wanted, named.length);
  if (target !== '' && !target.includes(' ')) {
    const first = subjects.filter((s) => firstName(s.name) === target);
    if (first.length === 1) return first[0]!;
    if (first.length > 1) throw ambiguous(wanted, first.length);
  }
  throw unknownSubject(wanted, subjects);
}

/** Everyone, or the one person `wanted` names (see `chooseSubject`). */
export function selectSubjects(subjects: readonly Subject[], wanted: string | undefined): Subject[] {
  return wanted === undefined ? [...subjects] : [chooseSubject(subjects, wanted)];
}

/** `NOT_FOUND` for a person the account does not follow: names the people it does follow, never ids. */
export function unknownSubject(wanted: string, subjects: readonly Subject[]): CgmError {
  if (subjects.length === 0) {
    return new CgmError('NOT_FOUND', `no one matches "${wanted}": this account follows nobody yet`, {
      hint: 'accept the invitation of the person to follow in the vendor app first',
    });
  }
  const names = subjects.map((s) => s.name).join(', ');
  return new CgmError('NOT_FOUND', `no one this account follows matches "${wanted}"; it follows: ${names}`, {
    hint: `set the patient to one of: ${names}`,
    detail: { followed: names },
  });
}

function ambiguous(wanted: string, count: number): CgmError {
  return new CgmError('NOT_FOUND', `${count} people this account follows match "${wanted}"`, {
    hint: 'give the full name, or the patient id (glucobridge read --json shows it as "subject")',
  });
}
