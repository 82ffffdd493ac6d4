// The contexts this CLI created. Mx2 has no GET on app_contexts, so what `contexts list` shows and
// what `invoke <contextId>` needs (referenceURI, host SAE, N) is kept in a local file, updated by
// `watch` when a notification moves a context. No secrets are kept here; mode 0600 all the same.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

export const storedContext = z.object({
  contextId: z.string(),
  location: z.string(),
  lcmpUrl: z.string(),
  associateDevAppId: z.string(),
  app: z.object({
    appName: z.string(),
    appProvider: z.string(),
    appDVersion: z.string(),
    appDId: z.string().optional(),
    appSoftVersion: z.string().optional(),
  }),
  appInstanceId: z.string(),
  referenceURI: z.string(),
  hostSaeId: z.string(),
  hostKmeId: z.string(),
  invocationsPerKey: z.int().min(1),
  callbackReference: z.string().optional(),
  createdAt: z.string(),
  movedAt: z.string().optional(),
});
export type StoredContext = z.infer<typeof storedContext>;

const stateFile = z.object({ contexts: z.record(z.string(), storedContext) });

export interface ContextStore {
  readonly path: string;
  list(): StoredContext[];
  get(contextId: string): StoredContext | undefined;
  put(c: StoredContext): void;
  remove(contextId: string): void;
}

export function openContextStore(path: string): ContextStore {
  const read = (): Record<string, StoredContext> => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return {};
    }
    const r = stateFile.safeParse(JSON.parse(text));
    if (!r.success) throw new Error(`${path} is not a mecqkd state file: ${r.error.issues[0]?.message}`);
    return r.data.contexts;
  };
  // read-modify-write of the whole file, renamed into place: a reader never sees half of it
  const write = (contexts: Record<string, StoredContext>) => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ contexts }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  };
  return {
    path,
    list: () => Object.values(read()).sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
    get: (id) => read()[id],
    put(c) {
      write({ ...read(), [c.contextId]: c });
    },
    remove(id) {
      const all = read();
      delete all[id];
      write(all);
    },
  };
}
