// HostActions against a real whisk-sim: endpoints resolved on first use (no probe has to run first),
// kept apart per namespace/name, and a convergence that deploys what is missing as well as removing
// what is unused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningWhiskSim, startWhiskSim } from '@mecqkd/whisk-sim/testbed';
import { expect } from 'chai';
import { HostActions } from '../../src/controllers/host-actions.ts';
import { desiredAction } from '../../src/openwhisk/action.ts';
import { managedActions, type WhiskEndpoint, whiskClient } from '../../src/openwhisk/deployer.ts';
import { app } from './fixtures.ts';

describe('HostActions (real whisk-sim)', function () {
  this.timeout(60_000);
  let dir: string;
  let sim: RunningWhiskSim;
  let endpoints: Record<string, WhiskEndpoint>;
  const echo = desiredAction(app('echo'), 'function main(p) { return p; }');
  const other = desiredAction(app('other'), 'function main() { return {}; }');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mecqkd-host-actions-'));
    sim = await startWhiskSim({ dir, name: 'host-actions', extraNamespaces: [{ name: 'second' }] });
    const second = sim.extra[0]!;
    endpoints = {
      'a/edge-1': { apiHost: sim.apiHost, namespace: sim.namespace, auth: sim.auth, insecure: sim.insecure },
      'b/edge-1': {
        apiHost: sim.apiHost,
        namespace: second.namespace,
        auth: second.auth,
        insecure: sim.insecure,
      },
    };
  });
  after(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const listed = (key: string) => managedActions(whiskClient(endpoints[key]!));

  it('deploys on first use without any probe having registered the host, per namespace/name', async () => {
    const hosts = new HostActions(async (key) => endpoints[key]);
    const recorded = await hosts.deployThen('b/edge-1', echo, async () => 'recorded');
    expect(recorded).to.equal('recorded');
    expect(await listed('b/edge-1')).to.deep.equal([echo.name]);
    expect(await listed('a/edge-1')).to.deep.equal([]);
    let error: unknown;
    await hosts
      .deployThen('c/edge-1', echo, async () => 'never')
      .catch((e: unknown) => {
        error = e;
      });
    expect((error as Error).message).to.contain('MecHost c/edge-1 not found');
  });

  it('converges both ways: redeploys what is needed and missing, removes what is unused', async () => {
    const hosts = new HostActions(async (key) => endpoints[key]);
    await hosts.deployThen('a/edge-1', echo, async () => undefined);
    await hosts.deployThen('a/edge-1', other, async () => undefined);
    await whiskClient(endpoints['a/edge-1']!).actions.delete({ name: echo.name });
    const needed = new Map([[echo.name, echo]]);
    const c = await hosts.converge('a/edge-1', needed, (name) => needed.has(name));
    expect(c).to.deep.equal({ deployed: [echo.name], removed: [other.name], present: [echo.name] });
    expect(await listed('a/edge-1')).to.deep.equal([echo.name]);
    expect(await listed('b/edge-1')).to.deep.equal([echo.name]);
  });

  it("redeploys a host's actions when what is bound to the host changes (its SAE ID, so its wrapper secret)", async () => {
    const key = 'a/edge-1';
    const bound = desiredAction(app('bound'), 'function main(p) { return p; }');
    const withSae = (saeId: string) => ({ ...endpoints[key]!, hostSaeId: saeId });
    let current = withSae('SAE_OLD');
    const bind = (body: typeof bound.body, host: { namespace: string; saeId: string }) => ({
      ...body,
      parameters: [
        ...body.parameters,
        { key: 'BOUND_TO', value: `${host.namespace}/${host.saeId}`, init: true },
      ],
    });
    const hosts = new HostActions(async () => current, bind);
    const boundTo = async () =>
      (await whiskClient(endpoints[key]!).actions.get({ name: bound.name })).parameters?.find(
        (p) => p.key === 'BOUND_TO',
      )?.value;
    await hosts.deployThen(key, bound, async () => undefined);
    expect(await boundTo()).to.equal('a/SAE_OLD');
    current = withSae('SAE_NEW');
    await hosts.refresh(key);
    const needed = new Map([[bound.name, bound]]);
    const c = await hosts.converge(key, needed, (name) => needed.has(name));
    expect(c.deployed).to.deep.equal([bound.name]);
    expect(await boundTo()).to.equal('a/SAE_NEW');
    // nothing changed since: the next pass leaves it alone
    expect((await hosts.converge(key, needed, (name) => needed.has(name))).deployed).to.deep.equal([]);
  });
});
