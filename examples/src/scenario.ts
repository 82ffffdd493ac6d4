// The hospital scenario on a running demo system, step by step, each step returning what it
// observed: `make demo` narrates it (demo.ts), the test asserts it (examples/test/scenario.test.ts).
// Device apps list the apps and open contexts over Mx2; client apps stream simulated patients
// through secure invocations; an eavesdropper's view of one invocation (the body on the wire and the
// activation record the FaaS platform stores) beside its decrypted result; the serving host is
// overloaded, the operator migrates, the device apps are notified and the streams go on elsewhere
// with no invocation lost; keys used per QKD link; contexts deleted over Mx2 and the actions gone.
import { join } from 'node:path';
import { parseExposition } from '@mecqkd/common/exposition';
import { createLogger } from '@mecqkd/common/logger';
import { waitUntil } from '@mecqkd/common/process';
import { createHttpClient, type Fetch, type HttpClient } from '@mecqkd/sdk/http';
import type { OffloadSession } from '@mecqkd/sdk/offload-session';
import openwhisk from 'openwhisk';
import type { Ward } from './patients.ts';
import type { DemoSystem } from './system.ts';
import { connect, type Model, openModel, type StreamRecord, streamPatients } from './ward-client.ts';

export interface Narrator {
  step(title: string): void;
  say(text: string): void;
}
export const silent: Narrator = { step: () => undefined, say: () => undefined };

/** The ward tablets of the scenario: which device app runs which model for which ward. */
export const TABLETS: { device: string; model: Model; ward: Ward; seed: number }[] = [
  { device: 'ward-7-tablet-1', model: 'cardio-risk', ward: 'cardiology', seed: 7 },
  { device: 'ward-7-tablet-2', model: 'cardio-risk', ward: 'internal-medicine', seed: 8 },
  { device: 'icu-tablet-1', model: 'covid-risk', ward: 'icu', seed: 9 },
];
const STREAM_INTERVAL_MS = 150;
const BITS_PER_KEY = 256;

/** What the fetch of the client app put on the wire and got back, per referenceURI. */
interface Wire {
  requestBody: string;
  responseBody: string;
}

/** A tap on the client app's HTTP: the bytes of each invocation as they leave and arrive. */
function tappedHttp(inner: HttpClient, last: Map<string, Wire>): HttpClient {
  const fetch: Fetch = async (url, init) => {
    const res = await inner.fetch(url, init);
    if (init?.method === 'POST' && typeof init.body === 'string' && url.includes('/api/v1/web/')) {
      const responseBody = await res.clone().text();
      last.set(url, { requestBody: init.body, responseBody });
    }
    return res;
  };
  return { fetch, close: () => inner.close() };
}

const hostOf = (appInstanceId: string) => appInstanceId.split('/')[0]!;

function whisk(sys: DemoSystem, host: string) {
  const w = sys.tb.whisks[host]!;
  return openwhisk({ apihost: w.apiHost, api_key: w.auth, namespace: w.namespace });
}

/** Keys consumed on every QKD link so far (kme-sim counts consumed bits at each end). */
async function consumedKeys(sys: DemoSystem): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const k of Object.values(sys.tb.kmes.kmes)) {
    const text = await (await fetch(`${k.opsUrl}/metrics`)).text();
    for (const s of parseExposition(text)) {
      if (s.name !== 'kme_link_consumed_bits') continue;
      const link = s.labels.link_id!;
      out[link] = Math.max(out[link] ?? 0, Math.round(s.value / BITS_PER_KEY));
    }
  }
  return out;
}

async function managedActions(sys: DemoSystem, host: string): Promise<string[]> {
  const list = await whisk(sys, host).actions.list();
  return list
    .filter((a) => a.annotations?.some((x: { key: string }) => x.key === 'mecqkd.io/managed'))
    .map((a) => a.name!);
}

/** Another tenant's batch job fills the host's OpenWhisk memory: 3 × 288 MB of 1024 for `ms`. */
async function overload(sys: DemoSystem, host: string, ms: number): Promise<void> {
  const ow = whisk(sys, host);
  await ow.actions.update({
    name: 'night-batch',
    action: 'function main(p) { return new Promise((r) => setTimeout(() => r({}), p.ms)); }',
    limits: { memory: 288, timeout: 120_000 },
  });
  for (let i = 0; i < 3; i++)
    await ow.actions.invoke({ name: 'night-batch', blocking: false, params: { ms } });
}

export interface ScenarioOutcome {
  apps: string[];
  contexts: { contextId: string; traceId: string; device: string; model: Model; host: string }[];
  eavesdropper: { requestBody: string; responseBody: string; activation: unknown; result: unknown };
  /** Known personal data (patientRef) found in what the eavesdropper saw: must stay empty. */
  leaked: string[];
  migration: { from: string; to: string; migrated: string[]; notifications: number };
  streams: {
    device: string;
    sent: number;
    answered: number;
    lost: number;
    /** What each lost invocation failed with. */
    errors: string[];
    perHost: Record<string, number>;
  }[];
  keysPerLink: Record<string, number>;
  actionsLeft: Record<string, string[]>;
  contextsLeft: number;
}

export async function runScenario(sys: DemoSystem, n: Narrator = silent): Promise<ScenarioOutcome> {
  const wire = new Map<string, Wire>();
  const ward = connect(sys, tappedHttp(createHttpClient(), wire));
  const log = createLogger('client-app', 'info', { file: join(sys.runDir, 'logs', 'client-app.log') });
  const sessions: { tablet: (typeof TABLETS)[number]; session: OffloadSession }[] = [];
  try {
    n.step('Device apps ask the LCMP for the applications (Mx2 GET /dev_app/v1/app_list)');
    const list = await ward.mx2.listApps();
    const apps = list.map((a) => a.appInfo.appName).sort();
    for (const a of list)
      n.say(`${a.appInfo.appName} ${a.appInfo.appSoftVersion}: ${a.appInfo.appDescription}`);

    n.step('Device apps create a context for each model (Mx2 POST /dev_app/v1/app_contexts)');
    for (const tablet of TABLETS) {
      const session = await openModel(ward, tablet.model, tablet.device);
      sessions.push({ tablet, session });
      const t = session.target();
      n.say(
        `${tablet.device}: ${tablet.model} context ${session.contextId} on ${hostOf(t.appInstanceId)} (host SAE ${t.hostSaeId}, trace ${session.traceId})`,
      );
    }
    const contexts = sessions.map(({ tablet, session }) => ({
      contextId: session.contextId,
      traceId: session.traceId,
      device: tablet.device,
      model: tablet.model,
      host: hostOf(session.target().appInstanceId),
    }));

    n.step('Client apps stream simulated patients through QKD-secured invocations');
    const keysBefore = await consumedKeys(sys);
    let stopStreams: () => void = () => undefined;
    const stop = new Promise<void>((r) => {
      stopStreams = r;
    });
    const records = sessions.map(() => [] as StreamRecord[]);
    const streams = sessions.map(({ tablet, session }, i) =>
      streamPatients(
        session,
        tablet.model,
        { seed: tablet.seed, ward: tablet.ward, intervalMs: STREAM_INTERVAL_MS, stop, log },
        (r) => {
          records[i]!.push(r);
          if (records[i]!.length <= 2 && r.outcome)
            n.say(
              `${tablet.device} ${r.patient.id} → ${JSON.stringify(r.outcome.result)} (host ${hostOf(r.outcome.instance.appInstanceId)}, key ${r.outcome.keyId.slice(0, 8)}…, seq ${r.outcome.seq})`,
            );
        },
      ),
    );
    const answered = (i: number, host?: string) =>
      records[i]!.filter((r) => r.outcome && (!host || hostOf(r.outcome.instance.appInstanceId) === host))
        .length;
    await waitUntil(
      'every stream answered 5 patients',
      async () => records.every((_, i) => answered(i) >= 5),
      {
        timeoutMs: 60_000,
      },
    );

    n.step('What an eavesdropper on the invocation path sees, next to what the ward tablet sees');
    const watched = sessions[0]!;
    const last = records[0]!.at(-1)!;
    const seen = wire.get(last.outcome!.instance.referenceURI)!;
    const action = last.outcome!.instance.appInstanceId.split('/')[1]!;
    const activation = (
      await whisk(sys, hostOf(last.outcome!.instance.appInstanceId)).activations.list({
        name: action,
        limit: 1,
        docs: true,
      })
    )[0];
    n.say(`request body on the wire (POST ${watched.session.target().referenceURI}):\n  ${seen.requestBody}`);
    n.say(`activation record stored by the host's OpenWhisk:\n  ${JSON.stringify(activation)}`);
    n.say(`the ward tablet, after decrypting: ${JSON.stringify(last.outcome!.result)}`);
    const refs = records.flat().map((r) => r.patient.id);
    const exposed = `${seen.requestBody}${seen.responseBody}${JSON.stringify(activation)}`;
    const leaked = refs.filter((ref) => exposed.includes(ref));
    n.say(
      leaked.length === 0
        ? `none of the ${refs.length} patient references so far appears in either: ciphertext only`
        : `LEAKED: ${leaked.join(', ')}`,
    );

    const from = contexts[0]!.host;
    const to = Object.keys(sys.tb.whisks).find((h) => h !== from)!;
    n.step(
      `${from} is overloaded (another tenant's batch fills its OpenWhisk memory): the operator migrates`,
    );
    const onFrom = sessions.filter(({ session }) => hostOf(session.target().appInstanceId) === from);
    let notifications = 0;
    for (const { tablet, session } of onFrom)
      session.on('migrated', ({ from: a, to: b, via }) => {
        notifications++;
        n.say(`${tablet.device} notified (${via}): ${hostOf(a.appInstanceId)} → ${hostOf(b.appInstanceId)}`);
      });
    await overload(sys, from, 25_000);
    await waitUntil(
      `every context off ${from}`,
      async () => sessions.every(({ session }) => hostOf(session.target().appInstanceId) !== from),
      { timeoutMs: 60_000 },
    );
    const base = sessions.map((_, i) => answered(i, to));
    await waitUntil(
      `every stream answered on ${to}`,
      async () => sessions.every((_, i) => answered(i, to) >= base[i]! + 5),
      { timeoutMs: 60_000 },
    );
    stopStreams();
    const done = await Promise.all(streams);
    const summary = sessions.map(({ tablet }, i) => {
      const perHost: Record<string, number> = {};
      for (const r of done[i]!)
        if (r.outcome) {
          const h = hostOf(r.outcome.instance.appInstanceId);
          perHost[h] = (perHost[h] ?? 0) + 1;
        }
      const ok = done[i]!.filter((r) => r.outcome).length;
      return {
        device: tablet.device,
        sent: done[i]!.length,
        answered: ok,
        lost: done[i]!.length - ok,
        errors: done[i]!.flatMap((r) => (r.error === undefined ? [] : [r.error])),
        perHost,
      };
    });
    for (const s of summary)
      n.say(
        `${s.device}: ${s.sent} patients sent, ${s.answered} answered (${Object.entries(s.perHost)
          .map(([h, c]) => `${h} ${c}`)
          .join(', ')}), ${s.lost} lost`,
      );

    n.step('QKD keys consumed per link');
    const keysAfter = await consumedKeys(sys);
    const keysPerLink = Object.fromEntries(
      Object.entries(keysAfter).map(([l, k]) => [l, k - (keysBefore[l] ?? 0)]),
    );
    for (const [l, k] of Object.entries(keysPerLink)) n.say(`${l}: ${k} keys of ${BITS_PER_KEY} bits`);

    n.step('Device apps delete their contexts (Mx2 DELETE): the operator removes the actions');
    for (const s of sessions.splice(0)) await s.session.close();
    const actionsLeft: Record<string, string[]> = {};
    await waitUntil(
      'no mecqkd action left on any host',
      async () => {
        for (const h of Object.keys(sys.tb.whisks)) actionsLeft[h] = await managedActions(sys, h);
        return Object.values(actionsLeft).every((a) => a.length === 0);
      },
      { timeoutMs: 60_000 },
    );
    const contextsLeft = (await sys.contexts()).length;
    n.say(
      `mecqkd actions left: ${Object.entries(actionsLeft)
        .map(([h, a]) => `${h} ${a.length}`)
        .join(', ')}; AppContexts left: ${contextsLeft}`,
    );
    return {
      apps,
      contexts,
      eavesdropper: { ...seen, activation, result: last.outcome!.result },
      leaked,
      migration: {
        from,
        to,
        migrated: onFrom.map(({ session }) => session.contextId),
        notifications,
      },
      streams: summary,
      keysPerLink,
      actionsLeft,
      contextsLeft,
    };
  } finally {
    for (const s of sessions) await s.session.close().catch(() => undefined);
    log.end();
    await ward.close();
  }
}
