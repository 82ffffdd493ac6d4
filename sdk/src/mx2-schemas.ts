// What a device app reads from the LCMP over Mx2 (MEC 016 V2.2.1): the ApplicationList, the created
// AppContext with its instance and mecqkd's QKD vendor extension, location availability, the
// notifications, ProblemDetails. The request-side data model is the LCMP's own (lcmp/src/mx2/schemas.ts,
// zod only), so both ends validate with one set of schemas; what the LCMP only ever emits is here.
import { appContext, locationConstraints, uri } from '@mecqkd/lcmp/mx2/schemas';
import { z } from 'zod';

export {
  type AppContextBody,
  type ApplicationLocationAvailability,
  appContext,
  applicationLocationAvailability,
  type LocationConstraints,
  locationConstraints,
} from '@mecqkd/lcmp/mx2/schemas';

/**
 * mecqkd's vendor extension next to an instance: the host's QKD identity (the slave SAE for enc_keys)
 * and the app's key use the host SAE enforces (invocations per key, the demand its key allowance
 * derives from).
 */
export const qkdExtension = z.object({
  vendorId: z.string().min(1).max(32),
  hostSaeId: z.string().min(1).max(256),
  hostKmeId: z.string().min(1).max(256),
  invocationsPerKey: z.int().min(1).max(1_000_000).optional(),
  expectedInvocationsPerSecond: z.number().min(0).max(1_000_000).optional(),
});
export type QkdExtension = z.infer<typeof qkdExtension>;

const uint32 = z.int().min(0).max(4_294_967_295);

export const appInfo = z.object({
  appDId: z.string().min(1),
  appName: z.string().min(1).max(32),
  appProvider: z.string().min(1).max(32),
  appSoftVersion: z.string().min(1).max(32),
  appDVersion: z.string().min(1),
  appDescription: z.string().max(128),
  appLocation: z.array(locationConstraints).optional(),
  appCharcs: z
    .object({
      memory: uint32.optional(),
      storage: uint32.optional(),
      latency: uint32.optional(),
      bandwidth: uint32.optional(),
      serviceCont: z.union([z.literal(0), z.literal(1)]).optional(),
    })
    .optional(),
});
export type AppInfo = z.infer<typeof appInfo>;

export const applicationList = z.object({
  appList: z
    .array(
      z.object({
        appInfo,
        vendorSpecificExt: z.looseObject({ vendorId: z.string().max(32) }).optional(),
      }),
    )
    .default([]),
});
export type ApplicationList = z.infer<typeof applicationList>;

/** A placed instance as the LCMP hands it out: where to invoke, and which host SAE keys are for. */
export const placedInstance = z.object({
  appInstanceId: z.string().min(1).max(256),
  referenceURI: uri,
  appLocation: locationConstraints.optional(),
  vendorSpecificExt: qkdExtension.optional(),
});
export type PlacedInstance = z.infer<typeof placedInstance>;

/** 201 to POST /app_contexts: the request's attributes echoed, plus what the MEC system assigned. */
export const createdAppContext = z.intersection(
  appContext,
  z.object({
    contextId: z.string().min(1).max(32),
    appInfo: z.object({ userAppInstanceInfo: z.array(placedInstance).length(1) }),
  }),
);
export type CreatedAppContext = z.infer<typeof createdAppContext>;

export const addressChangeNotification = z.object({
  notificationType: z.literal('AddressChangeNotification'),
  contextId: z.string().min(1).max(32),
  appInstanceId: z.string().min(1).max(256),
  referenceURI: uri,
  vendorSpecificExt: qkdExtension.optional(),
});

export const applicationContextUpdateNotification = z.object({
  notificationType: z.literal('ApplicationContextUpdateNotification'),
  contextId: z.string().min(1).max(32),
  userAppInstanceInfo: z.array(placedInstance).min(1),
});

export const applicationContextDeleteNotification = z.object({
  notificationType: z.literal('ApplicationContextDeleteNotification'),
  contextId: z.string().min(1).max(32),
});

export const applicationLocationAvailabilityNotification = z.object({
  notificationType: z.literal('ApplicationLocationAvailabilityNotification'),
  contextId: z.string().max(32).optional(),
  availableLocations: z.array(z.object({ appLocation: locationConstraints })).min(1),
});

/** MEC 016 InlineNotification: one of the four, by notificationType (exact names only). */
export const notification = z.discriminatedUnion('notificationType', [
  addressChangeNotification,
  applicationContextUpdateNotification,
  applicationContextDeleteNotification,
  applicationLocationAvailabilityNotification,
]);
export type Notification = z.infer<typeof notification>;
export type AddressChangeNotification = z.infer<typeof addressChangeNotification>;
export type ApplicationContextUpdateNotification = z.infer<typeof applicationContextUpdateNotification>;
export type ApplicationContextDeleteNotification = z.infer<typeof applicationContextDeleteNotification>;

/** RFC 7807 ProblemDetails (MEC 016 6.5.1); every member optional, extensions kept. */
export const problemDetails = z.looseObject({
  type: z.string().optional(),
  title: z.string().optional(),
  status: z.int().optional(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  fields: z.array(z.string()).optional(),
});
export type ProblemDetails = z.infer<typeof problemDetails>;

export const tokenAnswer = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.number().positive().optional(),
});
