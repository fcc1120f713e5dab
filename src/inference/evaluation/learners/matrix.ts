/** Column-major feature matrix: value of row i, feature j at data[j * rows + i]. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function columnMatrix(rowsOf: ReadonlyArray<ArrayLike<number>>, select?: ReadonlyArray<number>): Matrix {
  const rows = rowsOf.length;
  const idx = select ?? Array.from({ length: rowsOf[0]?.length ?? 0 }, (_, j) => j);
  const cols = idx.length;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[j * rows + i] = rowsOf[i][idx[j]];
  return { rows, cols, data };
}

/** Deterministic PRNG (mulberry32): evaluations are reproducible run to run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** fitPredict(x, y, train, test): a score per test row, higher = more likely degraded. */
export type Learner = (x: Matrix, y: Uint8Array, train: Int32Array, test: Int32Array, seed: number) => Float64Array;
