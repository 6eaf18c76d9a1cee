// The publisher and followers side of the simulated Dexcom Share: receiver assignment, the remote
// monitoring session, runtime info, EGV uploads (what a follower read returns next), contacts and
// invitations. Receiver statuses other than AssignedToYou/NotAssigned and the error codes for
// unknown contacts were never captured from the real service: they are this simulator's choice.
import { randomUUID } from 'node:crypto';
import { NULL_UUID } from '../providers/dexcom/constants';
import { parseDexcomDate } from '../providers/dexcom/timestamp';
import type { DexcomPublisherCall, DexcomSimAccountState, DexcomSimulator, DuplicateMode } from './dexcom';
import { EMPTY_OK, dexcomJson } from './dexcom-wire';
import type { SimResponse } from './types';

const DAY = 86_400_000;
const NOT_ASSIGNED = 'Publisher account does not have a valid monitored receiver.';

export function registerDexcomPublisher(sim: DexcomSimulator, all: () => DexcomSimAccountState[]): void {
  sim
    .register('Publisher/CheckMonitoredReceiverAssignmentStatus', ({ request, state, fault }) => {
      const serial = request.query.get('serialNumber')?.replace(/\/$/, '');
      if (!serial) return fault('InvalidArgument', 'Missing required field(s): serialNumber');
      if (state.assignedReceiver === serial) return dexcomJson('AssignedToYou');
      const owner = all().find((s) => s.assignedReceiver === serial);
      return dexcomJson(owner ? 'AssignedToOther' : 'NotAssigned');
    })
    .register('Publisher/ReplacePublisherAccountMonitoredReceiver', ({ request, state, fault }) => {
      const serial = request.query.get('serialNumber');
      if (!serial) return fault('InvalidArgument', 'Missing required field(s): serialNumber');
      // What Dexcom's uploader app saw when the receiver already was its own.
      if (state.assignedReceiver === serial) return { status: 500, body: '' };
      for (const other of all()) if (other.assignedReceiver === serial) other.assignedReceiver = undefined;
      state.assignedReceiver = serial;
      state.monitoring = false;
      return EMPTY_OK;
    })
    .register('Publisher/IsRemoteMonitoringSessionActive', ({ state }) => dexcomJson(state.monitoring))
    .register('Publisher/StartRemoteMonitoringSession', ({ request, state, fault }) => {
      const refused = receiverProblem(state, request.query.get('serialNumber'), fault);
      if (refused) return refused;
      state.monitoring = true;
      return EMPTY_OK;
    })
    .register('Publisher/StopRemoteMonitoringSession', ({ state }) => {
      state.monitoring = false;
      return EMPTY_OK;
    })
    .register('Publisher/UpdatePublisherAccountRuntimeInfo', ({ request, state, fault }) => {
      const info = (request.json as { runtimeInfo?: unknown } | undefined)?.runtimeInfo;
      if (info === null || typeof info !== 'object') {
        return fault('InvalidArgument', 'Missing required field(s): runtimeInfo');
      }
      state.runtimeInfo = info;
      return EMPTY_OK;
    })
    .register('Publisher/PostReceiverEgvRecords', (call) => postEgvs(call, sim.duplicates))
    .register('Publisher/ListPublisherAccountSubscriptions', ({ state }) =>
      dexcomJson([...state.contacts.values()].map((contact) => subscription(state, contact.contactId))),
    )
    .register('Publisher/DoesContactExistByName', ({ request, state }) => {
      const name = request.query.get('contactName') ?? '';
      return dexcomJson([...state.contacts.values()].some((c) => c.name === name));
    })
    .register('Publisher/CreateContact', ({ request, state, now, fault }) => {
      const name = request.query.get('contactName') ?? '';
      const email = request.query.get('emailAddress') ?? '';
      if (!name || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
        return fault('InvalidArgument', 'Missing or invalid field(s): contactName, emailAddress');
      }
      if ([...state.contacts.values()].some((c) => c.name === name)) {
        return fault('InvalidArgument', 'A contact with this name already exists');
      }
      const contactId = randomUUID();
      state.contacts.set(contactId, { contactId, name, email, created: now, modified: now });
      return dexcomJson(contactId);
    })
    .register('Publisher/CreateSubscriptionInvitation', ({ request, state, now, fault }) => {
      const contact = state.contacts.get(request.query.get('contactId') ?? '');
      if (!contact) return fault('InvalidArgument', 'Contact not found');
      const body = request.json as
        { AlertSettings?: Record<string, unknown>; Permissions?: unknown; DisplayName?: unknown } | undefined;
      const alerts = body?.AlertSettings;
      const complete =
        alerts !== undefined &&
        ['HighAlert', 'LowAlert', 'FixedLowAlert', 'NoDataAlert'].every((k) => typeof alerts[k] === 'object');
      if (!complete || typeof body?.Permissions !== 'number' || typeof body.DisplayName !== 'string') {
        return fault('InvalidArgument', 'Missing required field(s): AlertSettings, Permissions, DisplayName');
      }
      contact.invitation = {
        subscriptionId: randomUUID(),
        displayName: body.DisplayName,
        permissions: body.Permissions,
        alertSettings: alerts,
        created: now,
      };
      contact.modified = now;
      return dexcomJson(contact.invitation.subscriptionId);
    })
    .register('Publisher/DeleteContact', ({ request, state, fault }) => {
      if (!state.contacts.delete(request.query.get('contactId') ?? '')) {
        return fault('InvalidArgument', 'Contact not found');
      }
      return EMPTY_OK;
    });
}

function receiverProblem(
  state: DexcomSimAccountState,
  serial: string | null | undefined,
  fault: DexcomPublisherCall['fault'],
): SimResponse | undefined {
  if (!state.assignedReceiver) return fault('MonitoredReceiverNotAssigned', NOT_ASSIGNED);
  if (serial !== state.assignedReceiver) {
    return fault(
      'MonitoredReceiverSerialNumberDoesNotMatch',
      'Serial number does not match the monitored receiver of the publisher account.',
    );
  }
  return undefined;
}

interface EgvBody {
  SN?: unknown;
  Egvs?: { Trend?: unknown; ST?: unknown; DT?: unknown; Value?: unknown }[];
  TA?: unknown;
}

/**
 * Stores the new readings; a batch with nothing new (or, refusing batches, with anything already
 * stored) is DuplicateEgvPosted. TA is not applied.
 */
function postEgvs({ request, state, fault }: DexcomPublisherCall, duplicates: DuplicateMode): SimResponse {
  const body = request.json as EgvBody | undefined;
  if (typeof body?.SN !== 'string' || !Array.isArray(body.Egvs)) {
    return fault('InvalidArgument', 'Missing required field(s): SN, Egvs');
  }
  state.egvsPosted += body.Egvs.length;
  const refused = receiverProblem(state, body.SN, fault);
  if (refused) return refused;
  if (!state.monitoring)
    return fault('MonitoringSessionNotActive', 'Remote monitoring session is not active.');
  const parsed = [];
  for (const egv of body.Egvs) {
    const time = typeof egv.ST === 'string' ? parseDexcomDate(egv.ST) : undefined;
    const value = egv.Value;
    const trend = egv.Trend;
    const valid =
      time !== undefined &&
      typeof value === 'number' &&
      Number.isInteger(value) &&
      value >= 39 &&
      value <= 401 &&
      typeof trend === 'number' &&
      Number.isInteger(trend) &&
      trend >= 0 &&
      trend <= 9;
    if (!valid) return fault('InvalidArgument', 'Invalid EGV record');
    parsed.push({ time: time.ms, mgdl: value, trendCode: trend });
  }
  const fresh = parsed.filter((egv) => !state.uploads.has(egv.time));
  const duplicate = duplicates === 'refuse-batch' ? fresh.length < parsed.length : fresh.length === 0;
  if (parsed.length > 0 && duplicate) return fault('DuplicateEgvPosted', 'EGV record already posted.');
  for (const egv of fresh) state.uploads.set(egv.time, egv);
  return EMPTY_OK;
}

function subscription(state: DexcomSimAccountState, contactId: string): unknown {
  const contact = state.contacts.get(contactId)!;
  const invitation = contact.invitation;
  const when = (ms: number) => ({ DateTime: `/Date(${ms})/`, OffsetMinutes: 0 });
  return {
    ContactId: contact.contactId,
    ContactName: contact.name,
    DateTimeCreated: when(contact.created),
    DateTimeModified: when(contact.modified),
    DisplayName: invitation?.displayName ?? null,
    InviteExpires: invitation ? when(invitation.created + 7 * DAY) : null,
    IsEnabled: false,
    IsMonitoringSessionActive: state.monitoring,
    Permissions: invitation?.permissions ?? 0,
    State: invitation ? 2 : 0,
    SubscriberId: NULL_UUID,
    SubscriptionId: invitation?.subscriptionId ?? null,
  };
}
