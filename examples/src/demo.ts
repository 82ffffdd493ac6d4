// `make demo`: the hospital scenario (scenario.ts) on the whole local MEC system (system.ts),
// narrated as a timeline with a step counter and elapsed times. `make demo KEEP=1` (--keep) leaves
// the system running afterwards and prints what to try; Ctrl-C stops everything either way.
import { stopAll } from '@mecqkd/common/process';
import { controlPlaneBinaries } from '@mecqkd/localenv/binaries';
import { stopShared } from '@mecqkd/localenv/shared';
import { formatStatus } from '@mecqkd/sdk/observe/status-view';
import { contextStory, formatStory, readRunLogs } from '@mecqkd/sdk/observe/trace-story';
import { exportActivationLogs } from './activation-logs.ts';
import { startWardConsole } from './console/start.ts';
import { type Narrator, runScenario } from './scenario.ts';
import { type DemoSystem, newRunDir, startDemoSystem, writeConnectionFile } from './system.ts';

const STEPS = 9;
const INVOCATION_LINES = new Set(['Derived keys for an invocation', 'Invocation', 'Invocation answered']);
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);
let stepNo = 0;

const narrator: Narrator = {
  step(title) {
    stepNo++;
    console.log(`\n${bold(`[${stepNo}/${STEPS}] ${elapsed()}  ${title}`)}`);
  },
  say(text) {
    console.log(`  ${text.replace(/\n/g, '\n  ')}`);
  },
};

function whatToTry(sys: DemoSystem, connection: string, consoleUrl: string): string {
  const kc = `KUBECONFIG=${sys.kubeconfig}`;
  const kubectl = `${kc} ${controlPlaneBinaries().kubectl} -n ${sys.namespace}`;
  const cli = `node sdk/bin/mecqkd.mjs`;
  return [
    'The MEC system keeps running. Try:',
    `  the ward tablet console: ${consoleUrl}`,
    `  ${kubectl} get mec                    # hosts, links, apps, contexts`,
    `  ${kc} ${cli} status --namespace ${sys.namespace}`,
    `  ${cli} trace <contextId> --run-dir ${sys.runDir}`,
    `  node --import tsx examples/src/ward-client.ts ${connection} cardio-risk 20`,
    `  ${cli} apps --lcmp-url ${sys.lcmpUrl} --client-id ${sys.client.clientId}  # MECQKD_CLIENT_SECRET from ${connection}`,
    ...(sys.prometheusUrl ? [`  Prometheus: ${sys.prometheusUrl}/graph`] : []),
    `  LCMP (Mx2): ${sys.lcmpUrl}/dev_app/v1  ·  connection details: ${connection}`,
    `  logs of every component: ${sys.runDir}`,
    'Stop it with Ctrl-C.',
  ].join('\n');
}

async function main(keep: boolean): Promise<void> {
  const runDir = newRunDir();
  narrator.step('Starting the local MEC system');
  const sys = await startDemoSystem({
    runDir,
    prometheus: keep,
    progress: (line) => narrator.say(`${elapsed()}  ${line}`),
  });
  try {
    narrator.say(`apiserver kubeconfig ${sys.kubeconfig}; LCMP ${sys.lcmpUrl}; logs in ${runDir}`);
    narrator.say(`applied examples/manifests: the hospital catalog (cardio-risk, covid-risk)`);
    narrator.say(formatStatus({ hosts: await sys.hosts(), links: await sys.links(), contexts: [] }));
    const outcome = await runScenario(sys, narrator);

    narrator.step(
      `One context's story from every component's log (mecqkd trace ${outcome.contexts[0]!.contextId})`,
    );
    await exportActivationLogs(sys);
    const story = contextStory(readRunLogs(runDir), outcome.contexts[0]!.contextId);
    // the first invocation's lines and every decision; the other invocations repeat the first
    const perInvocation = story.lines.filter((l) => INVOCATION_LINES.has(l.message));
    const shown = story.lines.filter((l) => !INVOCATION_LINES.has(l.message) || perInvocation.indexOf(l) < 3);
    narrator.say(formatStory({ ...story, lines: shown }).trimEnd());
    narrator.say(`(${perInvocation.length - 3} more lines of later invocations: mecqkd trace shows all)`);
    const lost = outcome.streams.reduce((a, s) => a + s.lost, 0);
    if (lost > 0 || outcome.leaked.length > 0)
      throw new Error(`${lost} invocations lost, ${outcome.leaked.length} leaks`);
    console.log(
      `\n${bold(`demo done in ${elapsed()}`)}: no invocation lost, ciphertext only on the wire and at the host.`,
    );
    if (keep) {
      const tablet = await startWardConsole({
        lcmpUrl: sys.lcmpUrl,
        clientId: sys.client.clientId,
        clientSecret: sys.client.secret,
        devAppId: 'console',
        clientSae: sys.clientSae,
      });
      console.log(`\n${whatToTry(sys, writeConnectionFile(sys), tablet.url)}`);
      // the wrapper's lines reach the run directory for `mecqkd trace` while people try things
      const timer = setInterval(() => void exportActivationLogs(sys).catch(() => undefined), 5000);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      clearInterval(timer);
      await tablet.stop();
    }
  } finally {
    console.log(`\n${elapsed()}  stopping everything`);
    await sys.stop();
    await stopShared();
    await stopAll();
  }
}

main(process.argv.includes('--keep') || process.env.KEEP === '1').catch((err) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
