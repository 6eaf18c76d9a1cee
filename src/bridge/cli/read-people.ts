// Whose readings `glucobridge read` prints: the one person asked for, or everyone an account follows
// (a LibreLinkUp carer's account), each row named; the newest reading of each person carries their sensor.
import { readingToJson, type GlucoseReading, type ReadingJson } from '../../model/reading';
import { sensorStatus, type SensorStatus } from '../../model/sensor';
import type { CgmSource } from '../../providers/provider';

/** One person's readings, oldest first, with what the cloud said about them. */
export interface PersonReadings {
  /** Their name as the cloud gives it (LibreLinkUp), when it does. */
  name: string | undefined;
  readings: GlucoseReading[];
  sensor: SensorStatus | undefined;
}

/**
 * The readings to print: of `patient` when given (the shared selection rule, so a unique first name
 * does), else of everyone a LibreLinkUp account follows, else of the account's one person.
 */
export async function readPeople(
  source: CgmSource,
  span: number | undefined,
  patient: string | undefined,
  sensorDays: number,
  now = Date.now,
): Promise<PersonReadings[]> {
  const read = async (subject: string | undefined): Promise<GlucoseReading[]> =>
    span === undefined
      ? [await source.latest(subject)].filter((r): r is GlucoseReading => r !== null)
      : await source.history(subject === undefined ? { minutes: span } : { minutes: span, subject });
  const people =
    patient === undefined && source.provider === 'librelinkup' ? await source.subjects() : undefined;
  const wanted = people && people.length > 1 ? people.map((p) => p.id) : [patient];
  const out: PersonReadings[] = [];
  for (const subject of wanted) {
    const readings = await read(subject);
    // The reading names the person by id; `subject` may be a name.
    const id = readings.at(-1)?.subject ?? subject;
    const details = id === undefined ? undefined : source.details?.(id);
    out.push({
      name: details?.name,
      readings,
      sensor: details?.sensor ? sensorStatus(details.sensor, sensorDays, now()) : undefined,
    });
  }
  return out;
}

/** `read --json`: every reading, person by person; the newest of each carries their `sensor`. */
export function peopleJson(people: PersonReadings[]): (ReadingJson & { sensor?: SensorStatus })[] {
  return people.flatMap(({ readings, sensor }) =>
    readings.map((reading, i) => {
      const json = readingToJson(reading);
      return sensor && i === readings.length - 1 ? { ...json, sensor } : json;
    }),
  );
}

/** One line per person with a sensor: serial, start, expected end, days left, warming up. */
export function sensorLines(people: PersonReadings[]): string {
  const when = (iso: string) => iso.replace('T', ' ').replace(/:\d{2}\.\d{3}Z$/, 'Z');
  return people
    .filter((p) => p.sensor)
    .map(({ name, sensor }) => {
      const s = sensor!;
      const warm = s.warmingUp ? ', warming up' : '';
      const whose = name ? ` of ${name}` : '';
      return `sensor${whose}: ${s.serial}, started ${when(s.activated)}, ends ${when(s.ends)} (${s.daysLeft} days left${warm})\n`;
    })
    .join('');
}
