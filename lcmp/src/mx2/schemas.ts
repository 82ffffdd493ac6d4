// ETSI GS MEC 016 V2.2.1 data types, written by hand with the defects of the official OpenAPI
// repaired (../shared/docs/mec016.md §6): required members of array items enforced (D3), Polygon
// with or without `type` and with valid rings (D4), the LocationConstraints exclusivity rules (D5),
// uint32 as an integer range (D9). Bounds beyond the OAS are the AppContext CRD's, so whatever passes
// here also passes the apiserver.
import { z } from 'zod';

/** An absolute URI (RFC 3986 scheme ":" …) — `format: uri`. */
export const uri = z
  .string()
  .max(2048)
  .refine((s) => /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/.test(s) && URL.canParse(s), 'must be an absolute URI');

const position = z
  .array(z.number())
  .min(2)
  .max(3)
  .refine(
    ([lon, lat]) => Math.abs(lon!) <= 180 && Math.abs(lat!) <= 90,
    'position is [longitude, latitude(, altitude)]',
  );

const ring = z
  .array(position)
  .min(4)
  .max(256)
  .refine((r) => r[0]!.every((v, i) => v === r[r.length - 1]![i]), 'a linear ring ends where it starts');

/** RFC 7946 Polygon; `type` is optional on input (D4) and always emitted. */
export const polygon = z.object({
  type: z.literal('Polygon').optional(),
  coordinates: z.array(ring).min(1).max(8),
});

export const locationConstraints = z
  .object({
    countryCode: z
      .string()
      .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code in capitals')
      .optional(),
    civicAddressElement: z
      .array(z.object({ caType: z.int().min(0).max(255), caValue: z.string().min(1).max(256) }))
      .max(32)
      .optional(),
    area: polygon.optional(),
  })
  .superRefine((l, ctx) => {
    if (l.countryCode === undefined && l.area === undefined)
      ctx.addIssue({ code: 'custom', path: ['countryCode'], message: 'required when area is absent' });
    if (l.area !== undefined && l.civicAddressElement !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['civicAddressElement'],
        message: 'must be absent when area is present',
      });
  });

export type LocationConstraints = z.infer<typeof locationConstraints>;

export const userAppInstanceInfo = z.object({
  appInstanceId: z.string().max(256).optional(),
  referenceURI: uri.optional(),
  appLocation: locationConstraints.optional(),
});

const appContextAppInfo = z.object({
  appDId: z.string().min(1).max(256).optional(),
  appName: z.string().min(1).max(32),
  appProvider: z.string().min(1).max(32),
  appSoftVersion: z.string().min(1).max(32).optional(),
  appDVersion: z.string().min(1).max(32),
  appDescription: z.string().max(128).optional(),
  // D8: the members are response-only, yet one item is required: `[{}]` asks for one instance
  userAppInstanceInfo: z.array(userAppInstanceInfo).min(1),
  appPackageSource: uri.optional(),
});

export const appContext = z
  .object({
    contextId: z.string().max(32).optional(),
    associateDevAppId: z.string().min(1).max(32),
    callbackReference: uri.optional(),
    appLocationUpdates: z.boolean().optional(),
    appAutoInstantiation: z.boolean().optional(),
    appInfo: appContextAppInfo,
  })
  .superRefine((c, ctx) => {
    if (c.appLocationUpdates === true && c.appAutoInstantiation === true)
      ctx.addIssue({
        code: 'custom',
        path: ['appAutoInstantiation'],
        message: 'appLocationUpdates and appAutoInstantiation must not both be true (MEC 016 6.2.3 NOTE 4)',
      });
  });

export type AppContextBody = z.infer<typeof appContext>;
export type AppContextAppInfo = z.infer<typeof appContextAppInfo>;

export const applicationLocationAvailability = z.object({
  associateDevAppId: z.string().min(1).max(32),
  appInfo: z.object({
    appName: z.string().min(1).max(32),
    appProvider: z.string().min(1).max(32),
    appSoftVersion: z.string().min(1).max(32).optional(),
    appDVersion: z.string().min(1).max(32),
    appDescription: z.string().max(128).optional(),
    // D7: "shall be included" in the text, 0..1 in the table and the OAS: optional
    appPackageSource: uri.optional(),
    availableLocations: z.array(z.object({ appLocation: locationConstraints.optional() })).optional(),
  }),
});

export type ApplicationLocationAvailability = z.infer<typeof applicationLocationAvailability>;

const queryList = (max: number) =>
  z
    .union([z.string(), z.array(z.string())])
    // both `?appName=a&appName=b` (OAS form/explode) and `?appName=a,b` (what clients send)
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).filter((s) => s !== ''))
    .pipe(z.array(z.string().max(max)));

/** GET /app_list query; an unknown parameter is an error (TP_MEC_MEC016_MEO_UEAPPS_002_BR). */
export const appListQuery = z.strictObject({
  appName: queryList(32).optional(),
  appProvider: queryList(32).optional(),
  appSoftVersion: queryList(32).optional(),
  vendorId: queryList(32).optional(),
  serviceCont: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')))
    .pipe(z.array(z.enum(['0', '1']).transform(Number)))
    .optional(),
});

export type AppListQuery = z.infer<typeof appListQuery>;

/**
 * The MecApp's key use (placement.invocationsPerKey and expectedInvocationsPerSecond): what the host
 * SAE enforces — N invocations per key, new keys within the allowance the demand derives — so a device
 * app need not be told.
 */
export interface KeyUse {
  invocationsPerKey: number;
  expectedInvocationsPerSecond: number;
}

/** The vendor extension carried next to a MEC 016 instance reference: the host's QKD identity and key use. */
export interface QkdExtension extends Partial<KeyUse> {
  vendorId: string;
  hostSaeId: string;
  hostKmeId: string;
}
