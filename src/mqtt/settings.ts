import { z } from 'zod';

/** How to reach the broker and where to publish: the `mqtt` block of the bridge and of Homebridge. */
export const mqttSettingsSchema = z.object({
  /** Without a URL the bridge starts its own embedded broker. */
  url: z
    .string()
    .regex(
      /^(mqtts?|wss?|tcp):\/\/\S+$/,
      'mqtt.url must look like mqtt://host:1883 (or mqtts://, ws://, wss://)',
    )
    .optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  clientId: z.string().optional(),
  baseTopic: z
    .string()
    .regex(/^[^#+\s]+$/, 'mqtt.baseTopic may not contain #, + or spaces')
    .default('glucobridge'),
  discoveryPrefix: z
    .string()
    .regex(/^[^#+\s]+$/, 'mqtt.discoveryPrefix may not contain #, + or spaces')
    .default('homeassistant'),
});

export type MqttSettings = z.output<typeof mqttSettingsSchema>;
