// What the tablet's page sees of the device-app side: wards and patients, one offload session per
// model (opened at its first assessment: list apps, create the context), the assessments run, and
// the live view — this tablet's contexts, their hosts, and the notifications as they arrive.
import { cardioArgs, covidArgs, type Patient } from '../patients.ts';
import { type ContextTimings, type InvocationTimings, type Step, sequenceSteps } from './sequence.ts';
import type { ListedPatient, Ward, Wards } from './wards.ts';

export type Model = 'cardio' | 'covid';
export const MODELS: Record<Model, { app: string; args: (p: Patient) => object }> = {
  cardio: { app: 'cardio-risk', args: cardioArgs },
  covid: { app: 'covid-risk', args: covidArgs },
};

/** Where a context is served now, as the device app knows it (Mx2 answers and notifications). */
export interface Placement {
  contextId: string;
  host: string;
  hostSaeId: string;
  referenceURI: string;
}

/** One invocation's outcome as the offload session reports it (never the key, only its ID). */
export interface Invocation {
  result: unknown;
  keyId: string;
  seq: number;
  placement: Placement;
  timings: InvocationTimings;
}

/** What the console needs of an SDK offload session. */
export interface Session {
  placement(): Placement;
  timings: ContextTimings;
  invoke(args: object): Promise<Invocation>;
  close(): Promise<void>;
}

/** A notification the device app received (MEC 016 AddressChange / ContextUpdate / deletion). */
export interface MigrationNotice {
  type: string;
  contextId: string;
  placement?: Placement;
}

export interface LiveContext extends Placement {
  model: Model;
  app: string;
  invocations: number;
  migrations: number;
}

export interface Notice {
  at: string;
  type: string;
  contextId: string;
  app: string;
  text: string;
}

export interface Assessment {
  id: number;
  at: string;
  model: Model;
  app: string;
  ward: string;
  patientId: string;
  result: unknown;
  contextId: string;
  contextCreatedAt: string;
  host: string;
  hostSaeId: string;
  keyId: string;
  seq: number;
  steps: Step[];
}

export type LiveEvent = { type: 'contexts'; data: LiveContext[] } | { type: 'notification'; data: Notice };

export interface ConsoleCore {
  wards(): Ward[];
  addPatient(wardId: string): ListedPatient;
  assess(req: { model: Model; ward: string; patientId: string }): Promise<Assessment>;
  assessments(): Assessment[];
  contexts(): LiveContext[];
  /** Oldest first, as they arrived. */
  notifications(): Notice[];
  subscribe(listener: (e: LiveEvent) => void): () => void;
  /** Called by the notification receiver for every notification of this tablet's contexts. */
  notified(n: MigrationNotice): void;
  close(): Promise<void>;
}

const KEEP = 50;

export function createConsoleCore(deps: {
  wards: Wards;
  open: (app: string) => Promise<Session>;
  now?: () => Date;
}): ConsoleCore {
  const now = deps.now ?? (() => new Date());
  const sessions = new Map<Model, Promise<Session>>();
  const counts = new Map<Model, { invocations: number; migrations: number }>();
  const done: Assessment[] = [];
  const notices: Notice[] = [];
  const listeners = new Set<(e: LiveEvent) => void>();
  const emit = (e: LiveEvent) => {
    for (const l of listeners) l(e);
  };
  const opened = new Map<Model, Session>();

  const contexts = (): LiveContext[] =>
    [...opened].map(([model, s]) => ({
      model,
      app: MODELS[model].app,
      ...s.placement(),
      ...(counts.get(model) ?? { invocations: 0, migrations: 0 }),
    }));
  const pushContexts = () => emit({ type: 'contexts', data: contexts() });

  function session(model: Model): Promise<Session> {
    let s = sessions.get(model);
    if (!s) {
      s = deps.open(MODELS[model].app).then((x) => {
        opened.set(model, x);
        counts.set(model, { invocations: 0, migrations: 0 });
        pushContexts();
        return x;
      });
      // a failed open is not remembered: the next assessment tries again
      s.catch(() => sessions.delete(model));
      sessions.set(model, s);
    }
    return s;
  }

  return {
    wards: () => deps.wards.list(),
    addPatient: (wardId) => deps.wards.add(wardId),
    async assess({ model, ward, patientId }) {
      const patient = deps.wards.find(ward, patientId);
      const s = await session(model);
      const inv = await s.invoke(MODELS[model].args(patient.record));
      const c = counts.get(model)!;
      c.invocations++;
      pushContexts();
      const a: Assessment = {
        id: done.length + 1,
        at: now().toISOString(),
        model,
        app: MODELS[model].app,
        ward,
        patientId,
        result: inv.result,
        contextId: inv.placement.contextId,
        contextCreatedAt: s.timings.at,
        host: inv.placement.host,
        hostSaeId: inv.placement.hostSaeId,
        keyId: inv.keyId,
        seq: inv.seq,
        steps: sequenceSteps(s.timings, inv.timings, inv.placement.host),
      };
      done.unshift(a);
      done.length = Math.min(done.length, KEEP);
      return a;
    },
    assessments: () => [...done],
    contexts,
    notifications: () => [...notices],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notified(n) {
      const entry = [...opened].find(([, s]) => s.placement().contextId === n.contextId);
      const model = entry?.[0];
      const app = model ? MODELS[model].app : 'unknown app';
      if (model && n.type === 'AddressChangeNotification') counts.get(model)!.migrations++;
      const where = n.placement ? ` → ${n.placement.host} (host SAE ${n.placement.hostSaeId})` : '';
      const notice: Notice = {
        at: now().toISOString(),
        type: n.type,
        contextId: n.contextId,
        app,
        text: `${n.type} for ${app} (context ${n.contextId.slice(0, 8)}…)${where}`,
      };
      notices.push(notice);
      notices.splice(0, Math.max(0, notices.length - KEEP));
      emit({ type: 'notification', data: notice });
      pushContexts();
    },
    async close() {
      listeners.clear();
      await Promise.all([...opened.values()].map((s) => s.close()));
    },
  };
}
