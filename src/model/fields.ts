/**
 * The account fields a hint may name, in the words of the hosts' forms (the Homebridge settings form and
 * the Node-RED account dialog label them so). Core hints name a field only as `field(name)`: the word in
 * double quotes, and never a host's own spelling (an environment variable, a CLI option, a JSON key).
 * A host that names fields otherwise rewrites the quoted words with `renameFields` (the CLI adds its
 * environment variables and options).
 */
export const FIELD_WORDS = {
  username: 'username',
  password: 'password',
  accountId: 'account ID',
  region: 'region',
  server: 'server URL',
  patient: 'patient',
  serial: 'receiver serial',
  takeOverReceiver: 'take the receiver over',
  acceptTerms: 'accept new terms of use automatically',
} as const;

export type FieldName = keyof typeof FIELD_WORDS;

/** A field as a hint names it: `"account ID"`. */
export function field(name: FieldName): string {
  return `"${FIELD_WORDS[name]}"`;
}

/** Rewrites every field a text names (as `field(name)`) with the host's own name for it. */
export function renameFields(text: string, rename: (name: FieldName, quoted: string) => string): string {
  let out = text;
  for (const name of Object.keys(FIELD_WORDS) as FieldName[]) {
    const quoted = field(name);
    out = out.split(quoted).join(rename(name, quoted));
  }
  return out;
}
