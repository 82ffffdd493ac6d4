import { Mx2Error } from '../../mx2-client.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';

export const contextsDelete: Command = {
  name: 'contexts delete',
  summary: 'delete application contexts (DELETE /app_contexts/{contextId})',
  args: '<contextId>...',
  async run({ positionals, settings, out }) {
    if (positionals.length === 0) throw new UsageError('name at least one contextId');
    const store = settings.contexts();
    for (const id of positionals) {
      try {
        await settings.mx2().deleteContext(id);
      } catch (err) {
        // a context the LCMP does not know is gone: the local record goes too
        if (err instanceof Mx2Error && err.status === 404) store.remove(id);
        throw err;
      }
      store.remove(id);
      out.event({ contextId: id, deleted: true }, `deleted ${id}`);
    }
    return undefined;
  },
};
