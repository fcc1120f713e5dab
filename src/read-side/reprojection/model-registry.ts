import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Version names in models/manifest.json. Accepts the registry's shapes: `{ versions: [{ version }] }`,
 * `{ versions: { [version]: ... } }` or a single `{ version }`; `active` names the active one.
 */
export async function registeredVersions(modelsDir: string): Promise<{ versions: string[]; active?: string }> {
  const manifest = JSON.parse(await readFile(join(modelsDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  const v = manifest.versions;
  let versions: string[] = [];
  if (Array.isArray(v)) versions = v.map((x) => (typeof x === 'string' ? x : String((x as { version: unknown }).version)));
  else if (v && typeof v === 'object') versions = Object.keys(v);
  else if (typeof manifest.version === 'string') versions = [manifest.version];
  const active = typeof manifest.active === 'string' ? manifest.active : typeof manifest.activeVersion === 'string' ? manifest.activeVersion : undefined;
  return { versions, active };
}
