/** The people the simulated LibreLinkUp cloud knows: follower accounts and the patients they follow. */

export type LibreStep = 'tou' | 'pp' | 'verifyEmail';

export interface LibrePatientSpec {
  patientId: string;
  /** The connection id (used by the notification settings). */
  connectionId: string;
  firstName: string;
  lastName: string;
  /** Seed of the glucose trace: the same seed always gives the same values. */
  seed: string;
  profile: 'steady' | 'brittle';
  /** The patient phone's UTC offset, which `Timestamp` (local wall time) follows. */
  utcOffsetMinutes: number;
  country: string;
  /** The UTC hour of a daily rise past the sensor's HI, for a patient who also runs high. */
  highHourUtc?: number;
}

export interface LibreAccountSpec {
  email: string;
  password: string;
  userId: string;
  firstName: string;
  lastName: string;
  country: string;
  /** The region that serves the account; logins elsewhere are redirected there. */
  region: string;
  /** 0 = mmol/L, 1 = mg/dL: the unit of `Value` (never of `ValueInMgPerDl`). */
  uom: 0 | 1;
  patients: LibrePatientSpec[];
  /** Steps the next login must pass, in order. */
  steps?: LibreStep[];
  /** Redirects forced per region, whatever the account's region (to play a misconfigured cloud). */
  redirects?: Record<string, string>;
}

/** Every demo account shares this obviously fake password. */
export const LIBRE_DEMO_PASSWORD = 'demo-password-not-real';

function patient(
  n: number,
  firstName: string,
  lastName: string,
  profile: LibrePatientSpec['profile'],
  utcOffsetMinutes: number,
  country: string,
  highHourUtc?: number,
): LibrePatientSpec {
  const hex = n.toString(16).padStart(4, '0');
  return {
    patientId: `5e1f0000-${hex}-4000-8000-00000000${hex}`,
    connectionId: `c0aa0000-${hex}-4000-8000-00000000${hex}`,
    firstName,
    lastName,
    seed: `libre-${firstName}-${lastName}`,
    profile,
    utcOffsetMinutes,
    country,
    ...(highHourUtc === undefined ? {} : { highHourUtc }),
  };
}

function account(
  n: number,
  local: string,
  fields: Omit<LibreAccountSpec, 'email' | 'password' | 'userId' | 'lastName'>,
): LibreAccountSpec {
  const hex = n.toString(16).padStart(4, '0');
  return {
    email: `${local}@glucobridge.example`,
    password: LIBRE_DEMO_PASSWORD,
    userId: `f0110000-${hex}-4000-8000-00000000${hex}`,
    lastName: 'Follower',
    ...fields,
  };
}

/** The demo cloud: each account shows one behaviour a client must handle. */
export const LIBRE_DEMO_ACCOUNTS: readonly LibreAccountSpec[] = [
  account(1, 'family', {
    firstName: 'Family',
    country: 'DE',
    region: 'eu',
    uom: 1,
    patients: [
      patient(1, 'Mia', 'Sample', 'steady', 60, 'DE'),
      patient(2, 'Leo', 'Sample', 'brittle', 60, 'DE'),
    ],
  }),
  account(2, 'carer', {
    firstName: 'Carer',
    country: 'US',
    region: 'us',
    uom: 1,
    patients: [patient(3, 'Ava', 'Example', 'steady', -300, 'US')],
  }),
  account(3, 'mmol', {
    firstName: 'Mmol',
    country: 'GB',
    region: 'eu2',
    uom: 0,
    patients: [patient(4, 'Noah', 'Example', 'brittle', 0, 'GB', 16)],
  }),
  account(4, 'terms', {
    firstName: 'Terms',
    country: 'DE',
    region: 'de',
    uom: 1,
    steps: ['tou', 'pp'],
    patients: [patient(5, 'Ida', 'Example', 'steady', 60, 'DE')],
  }),
  account(5, 'verify', {
    firstName: 'Verify',
    country: 'FR',
    region: 'fr',
    uom: 0,
    steps: ['verifyEmail'],
    patients: [patient(6, 'Eva', 'Example', 'steady', 60, 'FR')],
  }),
  account(6, 'nobody', { firstName: 'Nobody', country: 'AU', region: 'au', uom: 0, patients: [] }),
  account(7, 'loop', {
    firstName: 'Loop',
    country: 'NL',
    region: 'eu',
    uom: 0,
    redirects: { global: 'eu', eu: 'de', de: 'eu' },
    patients: [patient(7, 'Max', 'Example', 'steady', 60, 'NL')],
  }),
  // Two children with near names: a configured "Anna Smyth" must never show Ben (nor Anna).
  account(8, 'smiths', {
    firstName: 'Smiths',
    country: 'GB',
    region: 'eu2',
    uom: 1,
    patients: [
      patient(8, 'Ben', 'Smith', 'steady', 0, 'GB'),
      patient(9, 'Anna', 'Smith', 'brittle', 0, 'GB'),
    ],
  }),
];
