import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An app listening on an ephemeral loopback port. */
export interface Served {
  readonly base: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:0 and resolves once the port is bound. */
export async function serve(app: { listen(port: number, host: string): Server }): Promise<Served> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
