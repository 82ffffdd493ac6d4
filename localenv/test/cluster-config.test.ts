// The one-node cluster's configuration, checked without starting it (no root needed): everything a
// node writes stays under its own run directory, and its names fit the kernel's limits, so two
// nodes can run at once (localenv/test/cluster/*.cluster.ts starts real ones).
import { expect } from 'chai';
import { containerdConfigToml, kubeletConfigYaml, type NodeLayout } from '../src/cluster/config-files.ts';
import { nodeNetwork } from '../src/cluster/netns.ts';

const layout: NodeLayout = {
  name: 'mqc-0a1b2c',
  runDir: '/tmp/mecqkd-mqc-0a1b2c',
  nodeIp: '10.201.7.2',
  cgroupRoot: '/mecqkd-mqc-0a1b2c',
  pauseImage: 'localhost/mecqkd/pause:3.10.2',
};
const absolutePaths = (text: string) => [...text.matchAll(/"(\/[^"]*)"/g)].map((m) => m[1] as string);

describe('one-node cluster configuration', () => {
  it("puts every containerd path (root, state, sockets, runc roots, CNI config) under the node's run directory", () => {
    const outside = absolutePaths(containerdConfigToml(layout)).filter(
      (p) => !p.startsWith(`${layout.runDir}/`) && p !== '/usr/lib/cni',
    );
    expect(outside).to.deep.equal([]);
  });

  it("gives kubelet the node's own cgroup root and socket, and accepts cgroup v1", () => {
    const yaml = kubeletConfigYaml(layout, { caCert: '/ca', cert: '/c', key: '/k' });
    expect(yaml).to.contain('cgroupRoot: /mecqkd-mqc-0a1b2c');
    expect(yaml).to.contain('failCgroupV1: false');
    expect(yaml).to.contain(`containerRuntimeEndpoint: unix://${layout.runDir}/`);
  });

  it('names the host end of the veth within IFNAMSIZ and differently for each node', () => {
    const a = nodeNetwork('mqc-0a1b2c', 3);
    const b = nodeNetwork('mqc-0a1b2d', 4);
    expect(a.hostVeth.length).to.be.at.most(15);
    expect(a.hostVeth).to.not.equal(b.hostVeth);
    expect([a.nodeIp, a.gateway]).to.deep.equal(['10.201.3.2', '10.201.3.1']);
  });
});
