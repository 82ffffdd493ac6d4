import { resolveApp } from '../catalog.ts';
import type { Command } from '../command.ts';
import { int, need, str } from '../command.ts';
import type { StoredContext } from '../state.ts';
import { contextColumns } from './contexts-list.ts';

export const contextsCreate: Command = {
  name: 'contexts create',
  summary: 'create an application context: the MEC system places the app (POST /app_contexts)',
  description:
    'The context is kept in the --state file (Mx2 has no GET on contexts) for `contexts list`, `invoke` and `watch`.',
  options: [
    { name: 'app', type: 'string', description: 'appName from `mecqkd apps` (required)' },
    { name: 'provider', type: 'string', description: 'appProvider, when several apps share the name' },
    { name: 'dev-app-id', type: 'string', env: true, description: 'associateDevAppId (required)' },
    { name: 'callback', type: 'string', description: 'callbackReference for notifications (see `watch`)' },
    { name: 'country', type: 'string', description: 'requested appLocation countryCode, e.g. IT' },
    {
      name: 'invocations-per-key',
      type: 'string',
      description: "N of the app's key-use policy, for `invoke`",
      default: '1',
    },
  ],
  async run({ flags, settings, out }) {
    const mx2 = settings.mx2();
    const app = await resolveApp(mx2, need(flags, 'app'), str(flags, 'provider'));
    const devAppId = need(flags, 'dev-app-id');
    const n = int(flags, 'invocations-per-key', 1, 1);
    const callback = str(flags, 'callback');
    const country = str(flags, 'country');
    const { context, location } = await mx2.createContext({
      associateDevAppId: devAppId,
      ...(callback ? { callbackReference: callback } : {}),
      appInfo: { ...app, userAppInstanceInfo: [country ? { appLocation: { countryCode: country } } : {}] },
    });
    const instance = context.appInfo.userAppInstanceInfo[0]!;
    const stored: StoredContext = {
      contextId: context.contextId,
      location,
      lcmpUrl: settings.lcmpUrl(),
      associateDevAppId: devAppId,
      app,
      appInstanceId: instance.appInstanceId,
      referenceURI: instance.referenceURI,
      hostSaeId: instance.vendorSpecificExt?.hostSaeId ?? '',
      hostKmeId: instance.vendorSpecificExt?.hostKmeId ?? '',
      invocationsPerKey: n,
      ...(callback ? { callbackReference: callback } : {}),
      createdAt: new Date().toISOString(),
    };
    settings.contexts().put(stored);
    out.table([stored], contextColumns, { ...stored, appContext: context });
    return undefined;
  },
};
