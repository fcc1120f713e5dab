import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

/** A progress bar on stderr for long runs: only when stderr is a terminal, or when asked (`--progress`). */
export function progressBar(total: number, label: string, force = false): Progress {
  if (!force && !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {detail}`,
      hideCursor: true,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(total, 1), 0, { detail: '' });
  return {
    update: (value, payload) => bar.update(Math.min(value, Math.max(total, 1)), payload),
    stop: () => bar.stop(),
  };
}
