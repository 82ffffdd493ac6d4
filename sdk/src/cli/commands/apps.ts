import type { Command } from '../command.ts';
import { str } from '../command.ts';

const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : undefined);

export const apps: Command = {
  name: 'apps',
  summary: 'list the applications the LCMP offers you (MEC 016 GET /app_list)',
  description: 'Filters: any value of one filter may match, every filter given must match.',
  options: [
    { name: 'name', type: 'string', multiple: true, description: 'appName (repeatable)' },
    { name: 'provider', type: 'string', multiple: true, description: 'appProvider (repeatable)' },
    { name: 'soft-version', type: 'string', multiple: true, description: 'appSoftVersion (repeatable)' },
    { name: 'vendor-id', type: 'string', multiple: true, description: 'vendorSpecificExt.vendorId' },
    { name: 'service-cont', type: 'string', description: '0 (not required) or 1 (required)' },
  ],
  async run({ flags, settings, out }) {
    const sc = str(flags, 'service-cont');
    const appList = await settings.mx2().listApps({
      appName: list(flags.name),
      appProvider: list(flags.provider),
      appSoftVersion: list(flags['soft-version']),
      vendorId: list(flags['vendor-id']),
      ...(sc !== undefined ? { serviceCont: Number(sc) as 0 | 1 } : {}),
    });
    out.table(
      appList,
      [
        { header: 'name', value: (a) => a.appInfo.appName },
        { header: 'provider', value: (a) => a.appInfo.appProvider },
        { header: 'version', value: (a) => a.appInfo.appSoftVersion },
        { header: 'appDVersion', value: (a) => a.appInfo.appDVersion },
        { header: 'appDId', value: (a) => a.appInfo.appDId },
        { header: 'description', value: (a) => a.appInfo.appDescription },
      ],
      { appList },
    );
    return undefined;
  },
};
