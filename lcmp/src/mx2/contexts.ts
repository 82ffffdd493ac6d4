// MEC 016 AppContext ↔ AppContext CR. A create becomes a CR named by the contextId, owned by the
// calling client (annotation) and carrying the request's appInfo (annotation) so that a later PUT
// can tell a change from a repetition. Pure functions.
import { randomBytes } from 'node:crypto';
import { canonicalJson } from '@mecqkd/common/canonical-json';
import { TRACEPARENT_ANNOTATION } from '@mecqkd/common/trace';
import {
  API_VERSION,
  type AppContext,
  type LocationConstraints as CrdLocation,
  type MecApp,
} from '@mecqkd/crds';
import { APP_CONTEXT_FINALIZER } from '@mecqkd/crds/api-resources';
import type { ClientRegistration } from '../auth/registry.ts';
import type {
  AppContextAppInfo,
  AppContextBody,
  KeyUse,
  LocationConstraints,
  QkdExtension,
} from './schemas.ts';

export const OWNER_ANNOTATION = 'mecqkd.io/lcmp-owner';
export const APP_INFO_ANNOTATION = 'mecqkd.io/mx2-app-info';
/**
 * For a context with appLocationUpdates: the locations (canonical JSON) the device app knows to be
 * available — those at its request, then those announced — so that a new one is announced once.
 */
export const KNOWN_LOCATIONS_ANNOTATION = 'mecqkd.io/lcmp-known-locations';
/** Held by the LCMP so that a context the system ends is announced before it disappears. */
export const LCMP_FINALIZER = 'mecqkd.io/lcmp-notify';

export const newContextId = () => randomBytes(16).toString('hex');

type StoredAppInfo = Omit<AppContextAppInfo, 'userAppInstanceInfo'>;

/** RFC 7946: a Polygon says so. */
function crdLocation(l: LocationConstraints): CrdLocation {
  const { area, ...rest } = l;
  return area ? { ...rest, area: { type: 'Polygon', coordinates: area.coordinates } } : rest;
}

/** The annotation value for a set of locations: sorted canonical JSON, so equal sets compare equal. */
export function knownLocations(locations: CrdLocation[]): string {
  return `[${locations
    .map((l) => canonicalJson(l))
    .sort()
    .join(',')}]`;
}

export function contextResource(
  req: AppContextBody,
  app: MecApp,
  client: ClientRegistration,
  contextId: string,
  namespace: string,
  /** Where the app is available now within a location (kept for appLocationUpdates). */
  availableAt: (where: CrdLocation | undefined) => CrdLocation[],
  traceparent?: string,
): AppContext {
  const { userAppInstanceInfo, ...info } = req.appInfo;
  const requested = userAppInstanceInfo[0]?.appLocation;
  const location = requested ? crdLocation(requested) : undefined;
  return {
    apiVersion: API_VERSION,
    kind: 'AppContext',
    metadata: {
      name: contextId,
      namespace,
      // the operator's finalizer from the start saves it a write per context
      finalizers: [APP_CONTEXT_FINALIZER, LCMP_FINALIZER],
      labels: { 'app.kubernetes.io/managed-by': 'mecqkd-lcmp' },
      annotations: {
        [OWNER_ANNOTATION]: client.clientId,
        [APP_INFO_ANNOTATION]: JSON.stringify(info),
        // the operator logs its decisions about this context under the creating request's trace
        ...(traceparent ? { [TRACEPARENT_ANNOTATION]: traceparent } : {}),
        ...(req.appLocationUpdates
          ? { [KNOWN_LOCATIONS_ANNOTATION]: knownLocations(availableAt(location)) }
          : {}),
      },
    },
    spec: {
      appName: app.metadata.name,
      associateDevAppId: req.associateDevAppId,
      ...(req.callbackReference ? { callbackReference: req.callbackReference } : {}),
      appLocationUpdates: req.appLocationUpdates ?? false,
      appAutoInstantiation: req.appAutoInstantiation ?? false,
      ...(location ? { appLocation: location } : {}),
      client: { kmeId: client.kmeId, saeId: client.saeId },
    },
  };
}

export function ownedBy(ctx: AppContext, client: ClientRegistration): boolean {
  return ctx.metadata.annotations?.[OWNER_ANNOTATION] === client.clientId && !ctx.metadata.deletionTimestamp;
}

/** What the host SAE enforces of the app's key use, for the device app. */
export const keyUseOf = (app: MecApp): KeyUse => ({
  invocationsPerKey: app.spec.placement.invocationsPerKey,
  expectedInvocationsPerSecond: app.spec.placement.expectedInvocationsPerSecond,
});

export function qkdExtension(ctx: AppContext, vendorId: string, keyUse?: KeyUse): QkdExtension | undefined {
  const s = ctx.status;
  return s?.hostSaeId && s.hostKmeId
    ? {
        vendorId,
        hostSaeId: s.hostSaeId,
        hostKmeId: s.hostKmeId,
        ...keyUse,
      }
    : undefined;
}

/** The one instance of a placed context, with the host's QKD identity as a vendor extension. */
export function instanceInfo(ctx: AppContext, vendorId: string, keyUse?: KeyUse) {
  const ext = qkdExtension(ctx, vendorId, keyUse);
  return {
    appInstanceId: ctx.status?.appInstanceId ?? '',
    referenceURI: ctx.status?.referenceURI ?? '',
    ...(ctx.spec.appLocation ? { appLocation: ctx.spec.appLocation } : {}),
    ...(ext ? { vendorSpecificExt: ext } : {}),
  };
}

/** 201 body: every attribute of the request (NOTE 1), plus contextId and the instance reference. */
export function createdBody(req: AppContextBody, ctx: AppContext, app: MecApp, vendorId: string) {
  const requested = req.appInfo.userAppInstanceInfo[0] ?? {};
  const instance = instanceInfo(ctx, vendorId, keyUseOf(app));
  return {
    ...req,
    contextId: ctx.metadata.name,
    appInfo: {
      ...req.appInfo,
      appDId: req.appInfo.appDId ?? app.spec.appInfo.appDId,
      userAppInstanceInfo: [
        {
          ...requested,
          appInstanceId: instance.appInstanceId,
          referenceURI: instance.referenceURI,
          ...(instance.vendorSpecificExt ? { vendorSpecificExt: instance.vendorSpecificExt } : {}),
        },
      ],
    },
  };
}

export type UpdateDecision =
  | { ok: true; spec: { callbackReference?: string | null; appLocation?: CrdLocation | null } }
  | { ok: false; field: string; detail: string };

const FIXED_INFO: (keyof StoredAppInfo)[] = [
  'appDId',
  'appName',
  'appProvider',
  'appSoftVersion',
  'appDVersion',
  'appDescription',
  'appPackageSource',
];

/**
 * PUT (MEC 016 7.5.3.2): only callbackReference and appLocation may change. A body repeating the
 * other attributes is fine (contextId and the response-only instance members are ignored, as the
 * ETSI test expects); a different value for any of them is a 400 naming it.
 */
export function decideUpdate(body: AppContextBody, ctx: AppContext): UpdateDecision {
  let stored: Partial<StoredAppInfo> = {};
  try {
    stored = JSON.parse(ctx.metadata.annotations?.[APP_INFO_ANNOTATION] ?? '{}');
  } catch {
    stored = {};
  }
  const differs = (field: string, given: unknown, was: unknown): UpdateDecision | undefined =>
    given !== undefined && given !== was
      ? {
          ok: false,
          field,
          detail: `${field} cannot be changed (only callbackReference and appLocation can)`,
        }
      : undefined;
  const checks = [
    differs('associateDevAppId', body.associateDevAppId, ctx.spec.associateDevAppId),
    differs('appLocationUpdates', body.appLocationUpdates, ctx.spec.appLocationUpdates),
    differs('appAutoInstantiation', body.appAutoInstantiation, ctx.spec.appAutoInstantiation),
    ...FIXED_INFO.map((k) =>
      // appDId may be given now though it was filled in by the LCMP at create
      k === 'appDId' && stored.appDId === undefined
        ? undefined
        : differs(`appInfo.${k}`, body.appInfo[k], stored[k]),
    ),
  ];
  const bad = checks.find((c) => c !== undefined);
  if (bad) return bad;
  if (body.appInfo.userAppInstanceInfo.length > 1)
    return { ok: false, field: 'appInfo.userAppInstanceInfo', detail: 'a context has exactly one instance' };
  const location = body.appInfo.userAppInstanceInfo[0]?.appLocation;
  return {
    ok: true,
    spec: {
      callbackReference: body.callbackReference ?? null,
      appLocation: location ? crdLocation(location) : null,
    },
  };
}
