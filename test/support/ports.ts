import { createServer } from 'node:net';

const LOOPBACK = '127.0.0.1';

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** A loopback TCP port that was free a moment ago (the OS picks it). Callers still retry if a race takes it. */
export async function freePort(): Promise<number> {
  const port = await tryListen(0);
  if (port === null) throw new Error('freePort: could not bind 127.0.0.1:0');
  return port;
}

/**
 * A port P such that P and P + offset are both free; Redis Cluster needs this for its bus port
 * (P + 10000). Ports come from 20000-29999 so P + offset stays below the ephemeral range
 * the OS hands out for freePort() and outgoing connections.
 */
export async function freePortWithCompanion(offset: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if ((await tryListen(port)) !== null && (await tryListen(port + offset)) !== null) return port;
  }
  throw new Error(`freePortWithCompanion: no free pair (P, P+${offset}) found`);
}
