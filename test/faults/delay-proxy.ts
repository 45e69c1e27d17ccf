import net from 'node:net';

export interface DelayProxy {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy that holds every chunk `delayMs` in each direction and cuts it into pieces
 * of at most `fragmentBytes`: a slow, choppy network between lockstep and Redis. Order is kept
 * (timers of one duration fire in the order they were set).
 */
export async function startDelayProxy(target: { host: string; port: number }, delayMs: number, fragmentBytes = 1024): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  const relay = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i += fragmentBytes) {
        const piece = chunk.subarray(i, i + fragmentBytes);
        setTimeout(() => {
          if (!to.destroyed) to.write(piece);
        }, delayMs);
      }
    });
    // a close travels with the same delay, behind the data
    from.on('end', () => setTimeout(() => to.end(), delayMs));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), delayMs + 1));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
