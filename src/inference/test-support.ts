/** Test helpers (used by the *.spec.ts files only). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const MODELS_DIR = path.resolve(process.env.MODELS_DIR ?? 'models');

export interface WindowVector {
  cycleIndex: number;
  labels: Record<string, number>;
  window: number[][]; // 60 rows x 17 sensors
  features: number[];
  probabilities: Record<'rf' | 'xgb' | 'helm', Record<string, number[]>>;
}
export interface SampleVector {
  cycleIndex: number;
  second: number;
  values: number[];
  features: number[];
  probabilities: Record<'rf' | 'xgb' | 'helm', Record<string, number[]>>;
}

export function loadVectors<T>(name: 'window' | 'sample'): { featureNames: string[]; sensors: string[]; version: string; cases: T[] } {
  return JSON.parse(readFileSync(path.join(MODELS_DIR, 'test-vectors', `hydraulic-17-${name}.json`), 'utf8'));
}

/** rows x sensors -> one column per sensor */
export function toColumns(rows: number[][]): Float64Array[] {
  const cols = rows[0].map(() => new Float64Array(rows.length));
  rows.forEach((r, i) => r.forEach((v, j) => (cols[j][i] = v)));
  return cols;
}

/**
 * Node options that let a worker thread run this repository's TypeScript sources (as jest does for the
 * specs): `.js` imports resolve to the `.ts` file next to them, compiled by @swc/core on load.
 */
export function typeScriptWorkerExecArgv(): string[] {
  const root = pathToFileURL(path.resolve('package.json')).href;
  const hooks = `
    import { existsSync, readFileSync } from 'node:fs';
    import { createRequire } from 'node:module';
    import { fileURLToPath } from 'node:url';
    const swc = createRequire(${JSON.stringify(root)})('@swc/core');
    const options = (filename) => ({
      filename,
      jsc: { target: 'es2022', parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, keepClassNames: true },
      module: { type: 'es6' },
    });
    export async function resolve(specifier, context, next) {
      if (/^(\\.|file:)/.test(specifier) && specifier.endsWith('.js') && context.parentURL?.startsWith('file:')) {
        const url = new URL(specifier, context.parentURL);
        const ts = new URL(url.href.replace(/\\.js$/, '.ts'));
        if (!existsSync(url) && existsSync(ts)) return { url: ts.href, shortCircuit: true };
      }
      return next(specifier, context);
    }
    export async function load(url, context, next) {
      if (!url.endsWith('.ts')) return next(url, context);
      const file = fileURLToPath(url);
      return { format: 'module', source: swc.transformSync(readFileSync(file, 'utf8'), options(file)).code, shortCircuit: true };
    }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  return ['--import', `data:text/javascript,${encodeURIComponent(register)}`];
}
