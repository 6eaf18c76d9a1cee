import { CgmError, type CgmErrorCode } from '../model/errors';
import { VERSION } from '../version';
import { layOut, type BridgeInfo, type DeviceSpec, type DiscoveryOptions } from './discovery';
import {
  BRIDGE_KEY,
  resolveTopics,
  retained,
  subjectTopic,
  type MqttMessage,
  type TopicOptions,
  type Topics,
} from './topics';

/** What the bridge reports about itself on `<base>/bridge/state`. */
export interface BridgeStatus {
  /** Accounts configured (one login each). */
  accounts: number;
  /** The most recent account error, or null when none happened (or the host cleared it). */
  lastError: BridgeError | null;
}

export interface BridgeError {
  code: CgmErrorCode;
  /** The error's message: never a secret (see CgmError). */
  message: string;
  /** The account's name as configured. */
  account?: string;
  /** When it happened. */
  time: Date;
}

/** The retained JSON on `<base>/bridge/state`. */
export interface BridgeStatePayload {
  version: string;
  accounts: number;
  lastError: { code: CgmErrorCode; message: string; account: string | null; time: string } | null;
}

export function bridgeStateTopic(topics: Topics): string {
  return subjectTopic(topics, BRIDGE_KEY, 'state');
}

/** The bridge's state, retained: the accounts it follows and the last error it met. */
export function bridgeStateMessages(status: BridgeStatus, options: TopicOptions = {}): MqttMessage[] {
  const topics = resolveTopics(options);
  const { lastError } = status;
  const payload: BridgeStatePayload = {
    version: VERSION,
    accounts: status.accounts,
    lastError: lastError
      ? {
          code: lastError.code,
          message: lastError.message,
          account: lastError.account ?? null,
          time: lastError.time.toISOString(),
        }
      : null,
  };
  return [retained(bridgeStateTopic(topics), JSON.stringify(payload))];
}

/** Home Assistant takes only http(s) addresses (or its own homeassistant://) as a configuration URL. */
function checkConfigurationUrl(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new CgmError('CONFIG', `The bridge's configuration URL "${url}" is not an http(s) address.`);
  }
}

function bridgeDevice(info: BridgeInfo, topics: Topics): DeviceSpec {
  if (info.configurationUrl !== undefined) checkConfigurationUrl(info.configurationUrl);
  const state = bridgeStateTopic(topics);
  return {
    key: BRIDGE_KEY,
    device: {
      name: 'GlucoBridge bridge',
      manufacturer: 'GlucoBridge',
      model: info.model ?? 'Bridge',
      sw_version: VERSION,
      ...(info.configurationUrl ? { configuration_url: info.configurationUrl } : {}),
    },
    entities: [
      {
        // Reads the availability topic itself (with the last will), so it shows "disconnected" rather
        // than "unavailable" when the bridge is gone, as zigbee2mqtt's bridge does.
        component: 'binary_sensor',
        objectId: 'connection_state',
        alwaysAvailable: true,
        config: {
          name: 'Connection state',
          state_topic: topics.availability,
          payload_on: 'online',
          payload_off: 'offline',
          device_class: 'connectivity',
          entity_category: 'diagnostic',
        },
      },
      {
        component: 'sensor',
        objectId: 'accounts',
        config: {
          name: 'Accounts',
          state_topic: state,
          value_template: '{{ value_json.accounts }}',
          icon: 'mdi:account-multiple',
          entity_category: 'diagnostic',
        },
      },
      {
        component: 'sensor',
        objectId: 'last_error',
        config: {
          name: 'Last error',
          state_topic: state,
          value_template: "{{ value_json.lastError.code if value_json.lastError else 'none' }}",
          json_attributes_topic: state,
          json_attributes_template: '{{ (value_json.lastError or {}) | tojson }}',
          icon: 'mdi:alert-circle-outline',
          entity_category: 'diagnostic',
        },
      },
    ],
  };
}

/**
 * The bridge device ("GlucoBridge bridge": version, connection state, accounts, last error) that every
 * person's device names as its `via_device`, in the layout of `options.layout`.
 */
export function bridgeDiscoveryMessages(info: BridgeInfo, options: DiscoveryOptions = {}): MqttMessage[] {
  const topics = resolveTopics(options);
  return layOut(bridgeDevice(info, topics), topics, options.layout);
}
