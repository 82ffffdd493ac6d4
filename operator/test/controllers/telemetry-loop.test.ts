// The telemetry poll verifies TLS as the probes do: a host's self-signed /metrics (a whisk-sim with
// --tls) is read only when the operator runs with --allow-insecure-hosts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@mecqkd/common/logger';
import type { MecHost } from '@mecqkd/crds';
import { type RunningWhiskSim, startWhiskSim } from '@mecqkd/whisk-sim/testbed';
import { expect } from 'chai';
import { pollTelemetry } from '../../src/controllers/telemetry-loop.ts';
import { scrapeProvider } from '../../src/telemetry/scrape.ts';
import type { HostSample } from '../../src/telemetry/types.ts';
import { host } from './fixtures.ts';

describe('telemetry poll of a host with spec.openwhisk.insecure', function () {
  this.timeout(60_000);
  let dir: string;
  let sim: RunningWhiskSim;
  let h: MecHost;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mecqkd-insecure-'));
    sim = await startWhiskSim({ dir, name: 'self-signed', tls: true });
    const base = host('edge', 'KME_E');
    h = {
      ...base,
      spec: {
        ...base.spec,
        openwhisk: { ...base.spec.openwhisk, apiHost: sim.apiHost, insecure: true },
        metricsUrl: sim.metricsUrl,
      },
    };
  });
  after(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const poll = async (allowInsecure: boolean) => {
    const stored: HostSample[] = [];
    const store = { putHosts: async (s: readonly HostSample[]) => void stored.push(...s) };
    const keys = await pollTelemetry(
      [h],
      scrapeProvider(),
      store,
      createLogger('test', 'silent'),
      allowInsecure,
    );
    return { keys, stored };
  };

  it('does not skip certificate verification without --allow-insecure-hosts', async () => {
    expect(await poll(false)).to.deep.equal({ keys: [], stored: [] });
  });

  it('reads the self-signed endpoint with --allow-insecure-hosts', async () => {
    const { keys, stored } = await poll(true);
    expect(keys).to.deep.equal(['ns/edge']);
    expect(stored[0]?.load).to.be.a('number');
  });
});
