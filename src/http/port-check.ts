import { createServer } from 'node:net';

export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${host}:${port} is already in use (another process listens there): stop it, or start with PORT=<free port> (PORT=0 picks one)`);
  }
}

/**
 * Fails with PortInUseError when HOST:PORT cannot be bound. Runs before anything is created or printed
 * (issue #17: a first start on a taken port printed the one-time admin key, then died on EADDRINUSE).
 * Other bind errors (EACCES for a privileged port, a HOST that is not local) are rethrown as they are.
 */
export async function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      // exclusive: a cluster primary must not hand us a shared handle
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(host, port);
    throw error;
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}

/** True for the error Fastify's listen throws when the port was taken between the check and the bind. */
export function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}
