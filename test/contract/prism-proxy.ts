import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/support/free-port.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface PrismProxy {
  url: string;
  /** Prism's own log (each violation is a line `Violation: …`). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Stoplight Prism (devDependency @stoplight/prism-cli 5.14.2, the last 5.x whose engines include Node 20) as a
 * validating proxy in front of `upstream`, on loopback only, with `--errors`: a request that violates the document
 * is answered 422 by Prism without being forwarded, a response that violates it becomes a Prism problem
 * (type https://stoplight.io/prism/errors#VIOLATIONS), and warnings are listed in the `sl-violations` header.
 * `--cors=false`: Prism adds no CORS headers of its own and answers no preflight, so what comes back is the service's.
 */
export async function startPrism(specFile: string, upstream: string, timeoutMs = 90_000): Promise<PrismProxy> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, 'node_modules/@stoplight/prism-cli/dist/index.js'), 'proxy', specFile, upstream, '--errors', '--cors=false', '-p', String(port), '-h', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A test worker that dies without its teardown must not leave Prism behind.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  void exited.then(() => process.off('exit', orphanGuard));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prism exited with ${child.exitCode}:\n${output}`);
    if (/Prism is listening/.test(output)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prism did not start within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, log: () => output, stop };
}
