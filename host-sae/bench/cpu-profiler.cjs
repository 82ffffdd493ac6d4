// Preloaded (NODE_OPTIONS=--require) into the processes of the secure-invocation bench when
// SECURE_BENCH_CPU_PROF names a directory: each SIGUSR2 toggles the V8 CPU profiler, and stopping
// writes <dir>/<role>-<pid>-<n>.cpuprofile. So a profile covers exactly a measured phase, and action
// containers (forked by whisk-sim with fixed flags; --cpu-prof is not allowed in NODE_OPTIONS and
// writes only on a clean exit) are profiled too. Plain CommonJS: it runs before any loader.
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');

const dir = process.env.MECQKD_CPU_PROF_DIR;
const script = process.argv[1] ?? 'node';
// host-sae/src/cli.ts → host-sae-cli, /tmp/whisk-sim-runner-….mjs → whisk-sim-runner
const folder = basename(dirname(script)) === 'src' ? basename(dirname(dirname(script))) : '';
const file = basename(script).replace(/(-[0-9a-f]{16})?(\.bench)?\.[cm]?[jt]s$/, '');
const role = folder ? `${folder}-${file}` : file;
// Sampling every 1 ms: at 0.1 ms a dozen profiled processes spend both cores on their samplers.
const intervalUs = Number(process.env.MECQKD_CPU_PROF_INTERVAL_US ?? 1000);
let session;
let written = 0;

if (dir)
  process.on('SIGUSR2', () => {
    if (!session) {
      session = new Session();
      session.connect();
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: intervalUs });
      session.post('Profiler.start');
      return;
    }
    const s = session;
    session = undefined;
    s.post('Profiler.stop', (err, result) => {
      if (!err)
        writeFileSync(
          join(dir, `${role}-${process.pid}-${++written}.cpuprofile`),
          JSON.stringify(result.profile),
        );
      s.disconnect();
    });
  });
