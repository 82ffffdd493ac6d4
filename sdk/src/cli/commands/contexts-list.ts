import type { Command } from '../command.ts';
import type { Column } from '../output.ts';
import type { StoredContext } from '../state.ts';

export const contextColumns: Column<StoredContext>[] = [
  { header: 'context', value: (c) => c.contextId },
  { header: 'app', value: (c) => c.app.appName },
  { header: 'instance', value: (c) => c.appInstanceId },
  { header: 'hostSae', value: (c) => c.hostSaeId },
  { header: 'referenceURI', value: (c) => c.referenceURI },
];

export const contextsList: Command = {
  name: 'contexts list',
  summary: 'list the contexts this CLI created and has not deleted (from the --state file)',
  description:
    'Mx2 has no GET on app_contexts: the addresses shown are those of the create, or of the last notification `watch` received.',
  async run({ settings, out }) {
    const all = settings.contexts().list();
    out.table(all, [...contextColumns, { header: 'lcmp', value: (c) => c.lcmpUrl }], { contexts: all });
    return undefined;
  },
};
