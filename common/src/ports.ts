import { createServer } from 'node:net';

/**
 * Ports handed out by this process. The kernel may give a just-closed port to the next listen(0), and
 * callers allocate several ports before anything binds them, so a port is never handed out twice.
 */
const given = new Set<number>();

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await ephemeralPort();
    if (!given.has(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error('no fresh free port on 127.0.0.1 after 50 attempts');
}
