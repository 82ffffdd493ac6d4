// Action entities: the PUT body, create/update merge rules, versions, auto annotations and the views
// the controller returns (full, without code, list view). Kept in memory per namespace.
import { z } from 'zod';
import type { ActionLimitsConfig } from '../config.ts';
import { HttpError, messages } from '../errors.ts';
import {
  type ActionLimits,
  actionLimitsInputSchema,
  defaultActionLimits,
  resolveActionLimits,
} from '../limits.ts';
import type { Runtimes } from '../runtimes.ts';
import { checkEntityName } from './names.ts';

export const keyValueSchema = z.object({ key: z.string(), value: z.unknown(), init: z.boolean().optional() });
export type KeyValue = z.infer<typeof keyValueSchema>;

const semver = /^\d+\.\d+\.\d+$/;

export const actionPutSchema = z.object({
  exec: z
    .object({
      kind: z.string(),
      code: z.string().optional(),
      main: z.string().min(1).optional(),
      image: z.string().optional(),
      components: z.array(z.string()).optional(),
      binary: z.boolean().optional(),
    })
    .optional(),
  parameters: z.array(keyValueSchema).optional(),
  annotations: z.array(keyValueSchema).optional(),
  delAnnotations: z.array(z.string()).optional(),
  limits: actionLimitsInputSchema.optional(),
  version: z.string().regex(semver, 'version must be major.minor.patch').optional(),
  publish: z.boolean().optional(),
});
export type ActionPut = z.infer<typeof actionPutSchema>;

export interface ActionExec {
  kind: string;
  code: string;
  binary: boolean;
  main?: string;
}

export interface Action {
  namespace: string;
  name: string;
  exec: ActionExec;
  parameters: KeyValue[];
  limits: ActionLimits;
  version: string;
  publish: boolean;
  annotations: KeyValue[];
  updated: number;
}

/** What OpenWhisk's Exec serializer computes: code that looks like base64 is an attachment (zip). */
function isBinary(code: string): boolean {
  const trimmed = code.trim();
  return trimmed.length > 0 && trimmed.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed);
}

function bumpPatch(version: string): string {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  return `${major}.${minor}.${patch + 1}`;
}

export function annotation(action: Pick<Action, 'annotations'>, key: string): unknown {
  return action.annotations.find((a) => a.key === key)?.value;
}

function setAnnotation(list: KeyValue[], key: string, value: unknown): KeyValue[] {
  return [...list.filter((a) => a.key !== key), { key, value }];
}

function mergeAnnotations(current: KeyValue[], put: ActionPut): KeyValue[] {
  const deleted = new Set(put.delAnnotations ?? []);
  let merged = current.filter((a) => !deleted.has(a.key));
  for (const a of put.annotations ?? []) merged = setAnnotation(merged, a.key, a.value);
  return merged;
}

export interface ActionStoreOptions {
  runtimes: Runtimes;
  limits: ActionLimitsConfig;
}

export function createActionStore(opts: ActionStoreOptions) {
  const byNamespace = new Map<string, Map<string, Action>>();
  // Strictly increasing, so "newest first" is well defined even within one millisecond.
  let lastUpdated = 0;
  const nextUpdated = () => {
    lastUpdated = Math.max(Date.now(), lastUpdated + 1);
    return lastUpdated;
  };
  const collection = (ns: string) => {
    let c = byNamespace.get(ns);
    if (!c) {
      c = new Map();
      byNamespace.set(ns, c);
    }
    return c;
  };

  function resolveExec(exec: NonNullable<ActionPut['exec']>): ActionExec {
    const runtime = opts.runtimes.resolve(exec.kind);
    if (!runtime) {
      throw new HttpError(
        400,
        messages.malformed(messages.unsupportedKind(exec.kind, opts.runtimes.kinds())),
      );
    }
    if (runtime.deprecated) throw new HttpError(400, messages.deprecatedRuntime(runtime.kind));
    if (typeof exec.code !== 'string')
      throw new HttpError(400, messages.malformed(messages.codeMissing(runtime.kind)));
    return {
      kind: runtime.kind,
      code: exec.code,
      binary: isBinary(exec.code),
      ...(exec.main !== undefined ? { main: exec.main } : {}),
    };
  }

  function parsePut(body: unknown): ActionPut {
    const parsed = actionPutSchema.safeParse(body);
    if (!parsed.success) throw new HttpError(400, messages.malformed(z.prettifyError(parsed.error)));
    return parsed.data;
  }

  return {
    get(ns: string, name: string): Action | undefined {
      return byNamespace.get(ns)?.get(name);
    },

    /** Create, or update when `overwrite`; returns the stored action. */
    put(ns: string, name: string, body: unknown, overwrite: boolean): Action {
      checkEntityName(name);
      const put = parsePut(body);
      const existing = collection(ns).get(name);
      if (existing && !overwrite) throw new HttpError(409, messages.conflict);
      let action: Action;
      if (!existing) {
        if (!put.exec) throw new HttpError(400, messages.execUndefined);
        const exec = resolveExec(put.exec);
        let annotations = mergeAnnotations([], put);
        if (annotation({ annotations }, 'provide-api-key') === undefined) {
          annotations = setAnnotation(annotations, 'provide-api-key', false);
        }
        action = {
          namespace: ns,
          name,
          exec,
          parameters: put.parameters ?? [],
          limits: resolveActionLimits(put.limits, defaultActionLimits(opts.limits), opts.limits),
          version: put.version ?? '0.0.1',
          publish: put.publish ?? false,
          annotations: setAnnotation(annotations, 'exec', exec.kind),
          updated: nextUpdated(),
        };
      } else {
        const exec = put.exec ? resolveExec(put.exec) : existing.exec;
        if (!put.exec && opts.runtimes.resolve(exec.kind)?.deprecated) {
          throw new HttpError(400, messages.deprecatedRuntime(exec.kind));
        }
        action = {
          namespace: ns,
          name,
          exec,
          parameters: put.parameters ?? existing.parameters,
          limits: resolveActionLimits(put.limits, existing.limits, opts.limits),
          version: put.version ?? bumpPatch(existing.version),
          publish: put.publish ?? existing.publish,
          annotations: setAnnotation(mergeAnnotations(existing.annotations, put), 'exec', exec.kind),
          updated: nextUpdated(),
        };
      }
      collection(ns).set(name, action);
      return action;
    },

    delete(ns: string, name: string): Action | undefined {
      const action = byNamespace.get(ns)?.get(name);
      if (action) byNamespace.get(ns)?.delete(name);
      return action;
    },

    /** Newest first, as the controller lists them. */
    list(ns: string): Action[] {
      return [...(byNamespace.get(ns)?.values() ?? [])].sort((a, b) => b.updated - a.updated);
    },
  };
}
export type ActionStore = ReturnType<typeof createActionStore>;

export function fullView(action: Action, withCode = true): Record<string, unknown> {
  const { code, ...execWithoutCode } = action.exec;
  return { ...action, exec: withCode ? { ...execWithoutCode, code } : execWithoutCode };
}

export function listView(action: Action): Record<string, unknown> {
  const { namespace, name, version, publish, annotations, limits, updated } = action;
  return {
    namespace,
    name,
    version,
    publish,
    annotations,
    limits,
    exec: { binary: action.exec.binary },
    updated,
  };
}
