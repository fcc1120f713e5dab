import { spawn, type ChildProcess } from 'node:child_process';

export type LogLine = Record<string, any>;

export interface SpawnedService {
  child: ChildProcess;
  /** Every JSON log line written to stdout so far. */
  lines: LogLine[];
  exited: Promise<{ code: number | null; at: number }>;
  /** The first log line (already written or still to come) that matches. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The port from the "listening on" line. */
  port(timeoutMs?: number): Promise<number>;
  stderr(): string;
}

/**
 * The built service (dist/src/main.js, `npm run build` first) as a child process on a free port, auth off,
 * info-level JSON log. ENV_FILE points nowhere: a developer's .env in the repository must not change what a
 * test runs. `env` adds to or overrides that.
 */
export function spawnService(env: Record<string, string>): SpawnedService {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: { PATH: process.env.PATH, ENV_FILE: '/nonexistent/.env', HOST: '127.0.0.1', PORT: '0', AUTH: 'off', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text);
      } catch {
        continue; // not a log line
      }
      lines.push(line);
      for (const w of [...waiters]) if (w.match(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
    }
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 60_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const found = lines.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`log line not seen; stderr: ${stderr.slice(-2000)}`)), timeoutMs);
      waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  return {
    child,
    lines,
    exited,
    waitForLog,
    port: async (timeoutMs) => (await waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on'), timeoutMs)).port as number,
    stderr: () => stderr,
  };
}
