// The operator as a supervised process: losing its Lease (the apiserver paused with SIGSTOP for
// longer than the renew deadline) or failing its work (403 on a watched resource) ends it with a
// non-zero exit once its work has stopped; the supervisor restarts it, and it leads and converges.
// This file pauses an apiserver, so it brings its own control plane rather than the shared one.
import { readFileSync } from 'node:fs';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { type ControlPlane, startControlPlane } from '@mecqkd/localenv/control-plane';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { expect } from 'chai';
import {
  contexts,
  createApp,
  createContext,
  eventually,
  type OperatorProcess,
  runOperatorProcess,
  type Supervisor,
  supervise,
} from './support.ts';

const MODEL = `function main(p) { return { model: 1 }; }`;

const placed = async (tb: MecTestbed, id: string) =>
  (await contexts(tb)).find((c) => c.metadata.name === id)?.status?.phase === 'Placed';

describe('operator leadership (e2e, supervised operator processes, own control plane)', function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let tb: MecTestbed | undefined;
  let sup: Supervisor | undefined;

  before(async () => {
    cp = await startControlPlane();
  });
  afterEach(async () => {
    await sup?.stop();
    sup = undefined;
    await tb?.stop();
    tb = undefined;
  });
  after(async () => {
    await cp?.stop();
  });

  it('exits non-zero when the apiserver is paused past the renew deadline, restarts and converges', async () => {
    const testbed = await startMecTestbed({
      namespace: `op-pause-${Date.now().toString(36)}`,
      controlPlane: cp,
    });
    tb = testbed;
    await createApp(testbed, 'model-1', MODEL);
    // renew deadline 3 s (support.ts testFlags): the pause below lasts until the operator has exited
    const supervisor = supervise(() => runOperatorProcess(testbed, 'replica-a'));
    sup = supervisor;
    const before = await createContext(testbed, 'model-1');
    await eventually('placed before the pause', () => placed(testbed, before), 60_000);
    const first = supervisor.current()!;

    process.kill(cp.pids.apiserver, 'SIGSTOP');
    try {
      await eventually(
        'the operator exits while the apiserver is paused',
        async () => supervisor.exits.length > 0,
        60_000,
      );
    } finally {
      process.kill(cp.pids.apiserver, 'SIGCONT');
    }
    expect(supervisor.exits[0], 'exit status of the replica that lost its Lease').to.equal(1);
    const log = readFileSync(first.logFile, 'utf8');
    expect(log).to.contain('Lost leadership');
    // its work stopped (controllers drained) before it exited
    expect(log.indexOf('Stopped workers')).to.be.greaterThan(log.indexOf('Lost leadership'));
    expect(log.indexOf('Exiting with status 1')).to.be.greaterThan(log.lastIndexOf('Stopped workers'));

    const after = await createContext(testbed, 'model-1');
    await eventually(
      'the restarted operator leads and places a new context',
      () => placed(testbed, after),
      120_000,
    );
    expect(await placed(testbed, before)).to.equal(true);
    expect(supervisor.exits, 'one restart, then it stays up').to.deep.equal([1]);
    const ready = await fetch(`${(supervisor.current() as OperatorProcess).healthUrl}/readyz`);
    expect(await ready.text()).to.contain('[+]leader-work ok');
    expect(ready.status).to.equal(200);
  });

  it('exits non-zero when a watched resource answers 403', async () => {
    const testbed = await startMecTestbed({
      namespace: `op-rbac-${Date.now().toString(36)}`,
      controlPlane: cp,
    });
    tb = testbed;
    // everything the operator needs except ConfigMaps
    const user = 'operator-without-configmaps';
    await testbed.kubectl(
      ['apply', '-f', '-'],
      [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: user },
          rules: [
            { apiGroups: ['mecqkd.io'], resources: ['*'], verbs: ['*'] },
            { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['*'] },
            { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
            { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['*'] },
          ],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: user },
          subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }],
          roleRef: { kind: 'Role', name: user, apiGroup: 'rbac.authorization.k8s.io' },
        },
      ]
        .map((d) => toKubeYaml(d))
        .join('---\n'),
    );
    const op = await runOperatorProcess(testbed, 'forbidden', { kubeconfig: await cp.userKubeconfig(user) });
    let code: number | null | undefined;
    void op.exited.then((c) => {
      code = c;
    });
    try {
      await eventually('the operator exits by itself', async () => code !== undefined, 60_000);
    } finally {
      await op.stop();
    }
    expect(code).to.equal(1);
    expect(readFileSync(op.logFile, 'utf8')).to.match(/informer configmaps stopped: .*403/);
  });
});
