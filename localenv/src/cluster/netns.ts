// The node's network namespace: every daemon, and kubectl/helm/tests, run in it through
// `nsenter --net=` (not `ip netns exec`, whose private mount namespace would hide kubelet's Secret
// volume mounts from containerd). A veth pair gives it the node IP and a default route through an
// address nobody holds: kubelet and kube-proxy need a default route, and nothing leaves the node.
import { existsSync } from 'node:fs';
import { must, run } from './run.ts';

export interface NodeNetwork {
  netns: string;
  /** /run/netns/<netns> */
  path: string;
  hostVeth: string;
  nodeIp: string;
  gateway: string;
}

export function nodeNetwork(name: string, octet: number): NodeNetwork {
  return {
    netns: name,
    path: `/run/netns/${name}`,
    hostVeth: `vq${name.slice(-10)}`,
    nodeIp: `10.201.${octet}.2`,
    gateway: `10.201.${octet}.1`,
  };
}

/** `command args` run inside the namespace. */
export function inNetns(net: NodeNetwork, command: string, args: string[]): [string, string[]] {
  return ['nsenter', [`--net=${net.path}`, '--', command, ...args]];
}

export async function createNodeNetwork(net: NodeNetwork): Promise<void> {
  await must('ip', ['netns', 'add', net.netns]);
  const inside = (args: string[]) => must(...inNetns(net, args[0] as string, args.slice(1)));
  await must('ip', ['link', 'add', net.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', net.netns]);
  await must('ip', ['link', 'set', net.hostVeth, 'up']);
  await inside(['ip', 'link', 'set', 'lo', 'up']);
  await inside(['ip', 'addr', 'add', `${net.nodeIp}/24`, 'dev', 'eth0']);
  await inside(['ip', 'link', 'set', 'eth0', 'up']);
  await inside(['ip', 'route', 'add', 'default', 'via', net.gateway]);
  // per-namespace settings: pods reach Services through the bridge and kube-proxy's NAT rules
  await inside(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  await inside(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
}

export async function deleteNodeNetwork(net: NodeNetwork): Promise<void> {
  if (existsSync(net.path)) await must('ip', ['netns', 'delete', net.netns]);
  // the host end goes with its peer (asynchronously: it may be gone by the time del runs); only a
  // half-made pair (failed start) is left to delete
  const del = await run('ip', ['link', 'del', net.hostVeth]);
  if (del.code !== 0 && !del.stderr.includes('Cannot find device')) {
    throw new Error(`ip link del ${net.hostVeth}: ${del.stderr.trim()}`);
  }
}
