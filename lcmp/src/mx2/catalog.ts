// The catalog as one client sees it: the MecApps it may use, matched against MEC 016 appInfo, and the
// ApplicationList and location answers built from them. Pure functions over cached CRs.
import type { LocationConstraints as CrdLocation, MecApp, MecHost } from '@mecqkd/crds';
import { hostInLocation } from '@mecqkd/crds/location';
import type { ClientRegistration } from '../auth/registry.ts';
import type { AppContextAppInfo, AppListQuery, ApplicationLocationAvailability } from './schemas.ts';

export function mayUse(client: ClientRegistration, app: MecApp): boolean {
  return client.apps === '*' || client.apps.includes(app.metadata.name);
}

export function mayActFor(client: ClientRegistration, devAppId: string): boolean {
  return client.devAppIds === '*' || client.devAppIds.includes(devAppId);
}

/** Within one parameter any value may match (OR); every given parameter must match (AND). */
export function matchesQuery(app: MecApp, q: AppListQuery, vendorId: string): boolean {
  const info = app.spec.appInfo;
  const any = (values: readonly (string | number)[] | undefined, actual: string | number | undefined) =>
    values === undefined || values.length === 0 || (actual !== undefined && values.includes(actual));
  return (
    any(q.appName, info.appName) &&
    any(q.appProvider, info.appProvider) &&
    any(q.appSoftVersion, info.appSoftVersion) &&
    any(q.vendorId, vendorId) &&
    any(q.serviceCont, info.appCharcs?.serviceCont)
  );
}

export function applicationList(
  apps: MecApp[],
  client: ClientRegistration,
  q: AppListQuery,
  vendorId: string,
) {
  return {
    appList: apps
      .filter((a) => mayUse(client, a) && matchesQuery(a, q, vendorId))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((a) => {
        const { appDId, appName, appProvider, appSoftVersion, appDVersion, appDescription } = a.spec.appInfo;
        const { appLocation, appCharcs } = a.spec.appInfo;
        return {
          appInfo: {
            appDId,
            appName,
            appProvider,
            appSoftVersion,
            appDVersion,
            appDescription,
            ...(appLocation ? { appLocation } : {}),
            ...(appCharcs ? { appCharcs } : {}),
          },
          vendorSpecificExt: { vendorId },
        };
      }),
  };
}

type AppRef = Pick<
  AppContextAppInfo,
  'appDId' | 'appName' | 'appProvider' | 'appDVersion' | 'appSoftVersion'
>;

/**
 * The MecApp a request means: by appDId when given (its name and provider must agree), else by name,
 * provider and descriptor version (and software version when given). Only apps the client may use.
 */
export function findApp(apps: Iterable<MecApp>, client: ClientRegistration, ref: AppRef): MecApp | undefined {
  for (const a of apps) {
    const i = a.spec.appInfo;
    if (!mayUse(client, a)) continue;
    if (ref.appDId !== undefined && i.appDId !== ref.appDId) continue;
    if (
      i.appName === ref.appName &&
      i.appProvider === ref.appProvider &&
      i.appDVersion === ref.appDVersion &&
      (ref.appSoftVersion === undefined || i.appSoftVersion === ref.appSoftVersion)
    )
      return a;
  }
  return undefined;
}

function isReady(host: MecHost): boolean {
  return (
    !host.metadata.deletionTimestamp &&
    (host.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false)
  );
}

function selects(app: MecApp, host: MecHost): boolean {
  const labels = host.metadata.labels ?? {};
  return Object.entries(app.spec.placement.hostSelector ?? {}).every(([k, v]) => labels[k] === v);
}

/** Locations of the Ready hosts that could run `app` (within `requested`, if given), each once. */
export function availableLocations(
  app: MecApp,
  hosts: Iterable<MecHost>,
  requested?: CrdLocation,
): CrdLocation[] {
  const seen = new Map<string, CrdLocation>();
  for (const h of hosts) {
    const loc = h.spec.location;
    // the operator's own location rule: what is listed here is where it would place
    if (
      !loc ||
      !isReady(h) ||
      !selects(app, h) ||
      !hostInLocation(loc, app.spec.appInfo.appLocation, requested)
    )
      continue;
    seen.set(JSON.stringify(loc), loc);
  }
  return [...seen.values()];
}

export function locationAvailability(
  req: ApplicationLocationAvailability,
  app: MecApp | undefined,
  hosts: Iterable<MecHost>,
): ApplicationLocationAvailability {
  const locations = app ? availableLocations(app, hosts) : [];
  return {
    ...req,
    appInfo: { ...req.appInfo, availableLocations: locations.map((appLocation) => ({ appLocation })) },
  };
}
