/** Counts the turns the event loop takes (setImmediate callbacks) until `stop` is called: proof that I/O was served. */
export function countEventLoopTurns(): { stop(): number } {
  let turns = 0;
  let more = true;
  const count = (): void => {
    turns++;
    if (more) setImmediate(count);
  };
  setImmediate(count);
  return {
    stop() {
      more = false;
      return turns;
    },
  };
}
