import { z } from 'zod';
import { urlProblem } from '../config';

/** How to reach the broker and where to publish: the `mqtt` block of the bridge and of Homebridge. */
export const mqttSettingsSchema = z.object({
  /** Without a URL the bridge starts its own embedded broker. */
  url: z
    .string()
    .superRefine((text, ctx) => {
      const problem = urlProblem(text, ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:'], 'mqtt.url');
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (e.g. mqtt://host:1883)` });
    })
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
  /**
   * Home Assistant discovery layout: `entity` (one config per entity, every Home Assistant) or `device`
   * (one config per device, Home Assistant 2024.11 and later). Absent means `entity`.
   */
  discovery: z.enum(['entity', 'device'], 'mqtt.discovery must be "entity" or "device"').optional(),
});

export type MqttSettings = z.output<typeof mqttSettingsSchema>;
