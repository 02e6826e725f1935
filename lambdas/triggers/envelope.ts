/**
 * The EventBridge envelope every trigger's event arrives in, and the `Trigger` record (where a
 * classification came from) that audit and registry records copy. Detail schemas live with their
 * trigger (one file per trigger in this folder); only what all of them share is here.
 */
import { z } from 'zod';

export const IsoDateTimeSchema = z.iso.datetime({ offset: true });

/**
 * The envelope. `account` is optional because the local emulator (moto) omits it; `resources` may
 * be missing in moto deliveries too and defaults to [].
 */
export const EventEnvelopeSchema = z.object({
  version: z.string().max(16).optional(),
  id: z.string().min(1).max(256),
  'detail-type': z.string().min(1).max(256),
  source: z.string().min(1).max(256),
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  time: IsoDateTimeSchema,
  region: z.string().regex(/^[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}$/),
  resources: z.array(z.string().max(2048)).max(100).default([]),
  detail: z.unknown(),
});
export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

/** Where a classification came from; copied into audit and registry records. */
export const TriggerSchema = z.object({
  eventId: z.string().max(256).optional(),
  source: z.string().max(256).optional(),
  detailType: z.string().max(256).optional(),
  account: z.string().max(256).optional(),
  region: z.string().max(256).optional(),
  busName: z.string().max(256).optional(),
});
export type Trigger = z.infer<typeof TriggerSchema>;

/** A detail field's value: 1 to 2048 characters (AWS identifiers, names, statuses). */
export const DetailString = z.string().min(1).max(2048);
