import { readManifest, type Manifest } from '../inference/registry.js';

const cache = new Map<string, Promise<Manifest>>();

/** models/manifest.json, read and checked once per directory: the registry does not change while the service runs. */
export function registryManifest(modelsDir: string): Promise<Manifest> {
  let manifest = cache.get(modelsDir);
  if (!manifest) {
    manifest = readManifest(modelsDir);
    manifest.catch(() => cache.delete(modelsDir));
    cache.set(modelsDir, manifest);
  }
  return manifest;
}
