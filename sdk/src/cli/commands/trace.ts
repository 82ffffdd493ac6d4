// `mecqkd trace <contextId>`: one context's story — the Mx2 create, the operator's decisions, each
// invocation at the host SAE and in the action wrapper, the client app's view — from the logs a
// run collected (`make demo` writes every component's log under .run/demo/<time>/).
import { existsSync } from 'node:fs';
import { contextStory, formatStory, readRunLogs } from '../../observe/trace-story.ts';
import { type Command, str, UsageError } from '../command.ts';

export const trace: Command = {
  name: 'trace',
  args: '<contextId>',
  summary: "one context's story from the logs of every component, in time order",
  options: [
    {
      name: 'run-dir',
      type: 'string',
      env: true,
      description: 'directory of the run whose logs to read',
      default: '.run/demo/latest',
    },
  ],
  async run({ flags, positionals, out }) {
    const [contextId] = positionals;
    if (!contextId || !/^[0-9a-f]{32}$/.test(contextId))
      throw new UsageError('give the contextId: 32 lowercase hex characters');
    const dir = str(flags, 'run-dir') ?? '.run/demo/latest';
    if (!existsSync(dir)) throw new UsageError(`--run-dir ${dir}: no such directory`);
    const story = contextStory(readRunLogs(dir), contextId);
    out.result(story, formatStory(story).trimEnd());
    return story.lines.length > 0 ? undefined : 1;
  },
};
