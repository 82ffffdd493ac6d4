import { readFileSync } from 'node:fs';
import type { Notification } from '../../mx2-schemas.ts';
import { startNotificationReceiver } from '../../notification-receiver.ts';
import { instanceOf, instanceTarget } from '../../offload-session.ts';
import type { Command } from '../command.ts';
import { int, str, UsageError } from '../command.ts';

function listenAddress(v: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(v);
  if (!m) throw new UsageError(`--listen ${v}: give host[:port]`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2] ?? 0) };
}

const line = (n: Notification) => {
  const i = instanceOf(n);
  const what = i
    ? `${i.appInstanceId} ${i.referenceURI}${i.vendorSpecificExt ? ` ${i.vendorSpecificExt.hostSaeId}` : ''}`
    : '';
  return `${new Date().toISOString()}  ${n.notificationType.padEnd(44)} ${n.contextId ?? '-'}  ${what}`.trimEnd();
};

export const watch: Command = {
  name: 'watch',
  summary: 'receive MEC 016 notifications and print them as they arrive',
  description: [
    'Starts a notification receiver (its URL is the callbackReference) and prints it first.',
    'With --context, points those contexts (from the --state file) at it (PUT /app_contexts/{id}).',
    'AddressChange and ApplicationContextUpdate notifications update the --state file, so `invoke`',
    'follows a migration; ApplicationContextDelete removes the context from it. Ends on Ctrl-C,',
    'after --count notifications or --timeout seconds.',
  ].join('\n'),
  options: [
    { name: 'listen', type: 'string', description: 'host[:port] to listen on', default: '127.0.0.1:0' },
    { name: 'public-host', type: 'string', description: 'host name the LCMP reaches the receiver by' },
    { name: 'tls-cert', type: 'string', description: 'serve HTTPS with this certificate (PEM file)' },
    { name: 'tls-key', type: 'string', description: 'and this private key (PEM file)' },
    { name: 'context', type: 'string', multiple: true, description: 'contextId to point here (repeatable)' },
    { name: 'count', type: 'string', description: 'end after this many notifications' },
    { name: 'timeout', type: 'string', description: 'end after this many seconds' },
  ],
  async run({ flags, settings, out, signal }) {
    const { host, port } = listenAddress(str(flags, 'listen') ?? '127.0.0.1:0');
    const cert = str(flags, 'tls-cert');
    const key = str(flags, 'tls-key');
    if (!cert !== !key) throw new UsageError('give --tls-cert and --tls-key together');
    const count = int(flags, 'count', 0, 1);
    const timeout = int(flags, 'timeout', 0, 1);
    const publicHost = str(flags, 'public-host');
    const receiver = await startNotificationReceiver({
      host,
      port,
      ...(publicHost ? { publicHost } : {}),
      ...(cert && key ? { tls: { cert: readFileSync(cert), key: readFileSync(key) } } : {}),
    });
    try {
      const store = settings.contexts();
      for (const id of (flags.context as string[] | undefined) ?? []) {
        const c = store.get(id);
        if (!c) throw new UsageError(`context ${id} is not in ${store.path}`);
        await settings.mx2().updateContext(id, {
          associateDevAppId: c.associateDevAppId,
          callbackReference: receiver.url,
          appInfo: { ...c.app, userAppInstanceInfo: [{}] },
        });
        store.put({ ...c, callbackReference: receiver.url });
      }
      out.event({ event: 'listening', url: receiver.url }, `listening on ${receiver.url}`);
      let seen = 0;
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        signal.addEventListener('abort', done, { once: true });
        if (timeout) setTimeout(done, timeout * 1000).unref();
        receiver.on('notification', (n) => {
          const c = n.contextId ? store.get(n.contextId) : undefined;
          const i = instanceOf(n);
          const t = i ? instanceTarget(i, 0) : undefined;
          if (c && n.notificationType === 'ApplicationContextDeleteNotification') store.remove(c.contextId);
          else if (c && t && 'target' in t)
            store.put({
              ...c,
              appInstanceId: t.target.appInstanceId,
              referenceURI: t.target.referenceURI,
              hostSaeId: t.target.hostSaeId,
              hostKmeId: t.target.hostKmeId,
              movedAt: new Date().toISOString(),
            });
          out.event(
            { event: 'notification', receivedAt: new Date().toISOString(), notification: n },
            line(n),
          );
          if (count && ++seen >= count) resolve();
        });
      });
    } finally {
      await receiver.close();
    }
    return undefined;
  },
};
