// An app named on the command line, resolved against the caller's app_list (so a create carries the
// exact appName, appProvider, appDVersion and appDId the LCMP offers).
import type { Mx2Client } from '../mx2-client.ts';
import type { AppRef } from '../offload-session.ts';
import { UsageError } from './command.ts';

export async function resolveApp(mx2: Mx2Client, name: string, provider?: string): Promise<AppRef> {
  const apps = await mx2.listApps({ appName: [name], ...(provider ? { appProvider: [provider] } : {}) });
  if (apps.length === 0)
    throw new UsageError(
      `no application ${name}${provider ? ` of ${provider}` : ''} in your app_list (see \`mecqkd apps\`)`,
    );
  if (apps.length > 1)
    throw new UsageError(
      `${apps.length} applications are called ${name}: choose one with --provider (${apps.map((a) => a.appInfo.appProvider).join(', ')})`,
    );
  const { appName, appProvider, appDVersion, appDId, appSoftVersion } = apps[0]!.appInfo;
  return { appName, appProvider, appDVersion, appDId, appSoftVersion };
}
