// A ward tablet's client app on the SDK — the one to copy for an app of your own. It asks the LCMP
// (Mx2, OAuth 2.0 client credentials) for a context of a hospital model, streams simulated patients
// through QKD-secured invocations (keys from the client KME over mutual TLS, arguments and results
// sealed), follows a migration without losing an invocation, and deletes the context at the end.
//
//   node --import tsx examples/src/ward-client.ts [connection.json] [cardio-risk|covid-risk] [count]
//
// connection.json is what `make demo KEEP=1` writes into its run directory (.run/demo/latest).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@mecqkd/common/logger';
import { createQkd014Client, type Qkd014Client } from '@mecqkd/kme-sim/client';
import { createHttpClient, type HttpClient } from '@mecqkd/sdk/http';
import { createMx2Client, type Mx2Client } from '@mecqkd/sdk/mx2-client';
import { type OffloadSession, openOffloadSession, type SessionOutcome } from '@mecqkd/sdk/offload-session';
import { clientCredentials } from '@mecqkd/sdk/token';
import { cardioArgs, covidArgs, createPatientGenerator, type Patient, type Ward } from './patients.ts';

/** What a client app needs to know of the MEC system (the demo's connection.json). */
export interface Connection {
  lcmpUrl: string;
  tokenUrl: string;
  client: { clientId: string; secret: string };
  clientSae: { id: string; kmeUrl: string; ca: string; cert: string; key: string };
}

export interface WardLink {
  mx2: Mx2Client;
  kme: Qkd014Client;
  http: HttpClient;
  clientSaeId: string;
  close(): Promise<void>;
}

/** The Mx2 client with its tokens and the client SAE's QKD 014 client. */
export function connect(c: Connection, http: HttpClient = createHttpClient()): WardLink {
  const token = clientCredentials(
    { tokenUrl: c.tokenUrl, clientId: c.client.clientId, clientSecret: c.client.secret },
    http.fetch,
  );
  const mx2 = createMx2Client({ url: c.lcmpUrl, token, http });
  const kme = createQkd014Client({
    url: c.clientSae.kmeUrl,
    ca: readFileSync(c.clientSae.ca),
    cert: readFileSync(c.clientSae.cert),
    key: readFileSync(c.clientSae.key),
  });
  return {
    mx2,
    kme,
    http,
    clientSaeId: c.clientSae.id,
    async close() {
      kme.close();
      await http.close();
    },
  };
}

export const MODEL_ARGS = { 'cardio-risk': cardioArgs, 'covid-risk': covidArgs } as const;
export type Model = keyof typeof MODEL_ARGS;

/** Opens a context of `model` for a device app; its key use (N, paced demand) comes over Mx2. */
export async function openModel(w: WardLink, model: Model, deviceApp: string): Promise<OffloadSession> {
  const [app] = await w.mx2.listApps({ appName: [model] });
  if (!app) throw new Error(`the LCMP offers no ${model} to this client`);
  const { appName, appProvider, appDVersion } = app.appInfo;
  return openOffloadSession({
    mx2: w.mx2,
    app: { appName, appProvider, appDVersion },
    associateDevAppId: deviceApp,
    kme: w.kme,
    clientSaeId: w.clientSaeId,
    http: w.http,
  });
}

export interface StreamRecord {
  patient: Patient;
  outcome?: SessionOutcome;
  error?: string;
}

/**
 * Sends patients one after the other, `intervalMs` apart, until `stop` resolves; every patient is
 * answered or its error recorded, so nothing is lost unseen. `patientRef` stands for the personal
 * data an eavesdropper must not see.
 */
export async function streamPatients(
  session: OffloadSession,
  model: Model,
  opts: { seed: number; ward: Ward; intervalMs: number; stop: Promise<void>; log?: Logger },
  onRecord: (r: StreamRecord) => void = () => undefined,
): Promise<StreamRecord[]> {
  const patients = createPatientGenerator(opts.seed);
  const records: StreamRecord[] = [];
  let stopped = false;
  void opts.stop.then(() => {
    stopped = true;
  });
  while (!stopped) {
    const patient = patients.next(opts.ward);
    const r: StreamRecord = { patient };
    try {
      r.outcome = await session.invoke({ ...MODEL_ARGS[model](patient), patientRef: patient.id });
      opts.log?.info('Invocation answered', {
        traceId: session.traceId,
        contextId: session.contextId,
        host: r.outcome.instance.appInstanceId.split('/')[0],
        keyId: r.outcome.keyId,
        seq: r.outcome.seq,
        attempts: r.outcome.attempts.length,
        ms: Math.round(r.outcome.timings.total * 10) / 10,
      });
    } catch (err) {
      r.error = (err as Error).message;
      opts.log?.warn('Invocation failed', {
        traceId: session.traceId,
        contextId: session.contextId,
        error: r.error,
      });
    }
    records.push(r);
    onRecord(r);
    await new Promise((res) => setTimeout(res, opts.intervalMs));
  }
  return records;
}

async function main(): Promise<void> {
  const [file = '.run/demo/latest/connection.json', model = 'cardio-risk', count = '10'] =
    process.argv.slice(2);
  if (!(model in MODEL_ARGS)) throw new Error(`model must be one of ${Object.keys(MODEL_ARGS).join(', ')}`);
  const w = connect(JSON.parse(readFileSync(file, 'utf8')) as Connection);
  const session = await openModel(w, model as Model, 'ward-7-tablet-2');
  console.log(`context ${session.contextId} on ${session.target().appInstanceId} (trace ${session.traceId})`);
  session.on('migrated', ({ from, to }) =>
    console.log(`migrated ${from.appInstanceId} → ${to.appInstanceId}`),
  );
  let done: () => void = () => undefined;
  const stop = new Promise<void>((r) => {
    done = r;
  });
  let n = 0;
  await streamPatients(
    session,
    model as Model,
    { seed: Date.now(), ward: 'cardiology', intervalMs: 200, stop },
    (r) => {
      console.log(
        `${r.patient.id}: ${r.error ?? JSON.stringify(r.outcome?.result)} on ${r.outcome?.instance.appInstanceId.split('/')[0]}`,
      );
      if (++n >= Number(count)) done();
    },
  );
  await session.close();
  await w.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`ward-client: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
