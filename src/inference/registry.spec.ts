/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnomalyDetector, RegistryError } from './anomaly-detector.js';
import { readManifest, selectVersion } from './registry.js';
import { MODELS_DIR } from './test-support.js';

/** A copy of manifest.json + the active version's production files (and window bundle) in a temp dir. */
function copyModels(): { dir: string; manifest: any } {
  const dir = mkdtempSync(path.join(tmpdir(), 'registry-spec-'));
  const manifest = JSON.parse(readFileSync(path.join(MODELS_DIR, 'manifest.json'), 'utf8'));
  const v = manifest.versions.find((x: any) => x.version === manifest.active);
  for (const set of [v.models, v.sampleModels])
    for (const f of Object.values(set) as any[]) cpSync(path.join(MODELS_DIR, f.path), path.join(dir, f.path), { recursive: true });
  cpSync(path.join(MODELS_DIR, v.windowBundle.path), path.join(dir, v.windowBundle.path));
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return { dir, manifest };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('model registry', () => {
  it('given the committed manifest, when loaded, then every file verifies and the active version is served', async () => {
    const m = await readManifest(MODELS_DIR);
    const v = selectVersion(m);
    const det = await AnomalyDetector.load({ modelsDir: MODELS_DIR });
    expect(det.version).toBe(v.version);
    expect(det.profile).toBe('hydraulic-17');
    expect(det.dutyCycleSeconds).toBe(60);
    expect(det.sensors.map((s) => s.id)).toHaveLength(17);
    await det.close();
  });

  // The window bundle is checked when it is what runs; the separate window files when they are.
  for (const [what, fileOf, bundle] of [
    ['a model file', (v: any) => v.models.xgb.path, false],
    ['the window bundle', (v: any) => v.windowBundle.path, true],
  ] as const)
    it(`given ${what} whose sha256 differs from the manifest, when loading, then it fails fast naming the file`, async () => {
      const { dir, manifest } = copyModels();
      dirs.push(dir);
      const v = manifest.versions.find((x: any) => x.version === manifest.active);
      const file = path.join(dir, fileOf(v));
      const bytes = readFileSync(file);
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(file, bytes);
      const p = AnomalyDetector.load({ modelsDir: dir, bundle });
      await expect(p).rejects.toThrow(RegistryError);
      await expect(AnomalyDetector.load({ modelsDir: dir, bundle })).rejects.toThrow(new RegExp(`${path.basename(file).replace('.', '\\.')}: sha256 mismatch`));
    });

  it('given the window bundle, when every window model is on, then they run as the bundle, else as separate files without the switched-off one', async () => {
    const all = await AnomalyDetector.load({ modelsDir: MODELS_DIR });
    expect(all.models.window.bundled).toBe(true);
    expect(all.models.window.families).toEqual(all.manifest.windowBundle!.families);
    await all.close();
    const noXgb = await AnomalyDetector.load({ modelsDir: MODELS_DIR, flags: { xgb: false } });
    expect(noXgb.models.window.bundled).toBe(false);
    expect(noXgb.models.window.families).toEqual(all.manifest.windowBundle!.families.filter((f) => f !== 'xgb'));
    await noXgb.close();
  });

  it('given a bundle whose outputs the manifest names wrongly, then load fails naming the bundle and the output', async () => {
    const { dir, manifest } = copyModels();
    dirs.push(dir);
    const v = manifest.versions.find((x: any) => x.version === manifest.active);
    v.windowBundle.outputs.rf.valve = 'rf__no_such_output';
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    await expect(AnomalyDetector.load({ modelsDir: dir })).rejects.toThrow(/window-bundle\.onnx: no output 'rf__no_such_output'/);
  });

  it('given a manifest whose feature order differs from the extractor, then it fails fast', async () => {
    const { dir, manifest } = copyModels();
    dirs.push(dir);
    const v = manifest.versions.find((x: any) => x.version === manifest.active);
    [v.features.window[0], v.features.window[1]] = [v.features.window[1], v.features.window[0]];
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    await expect(AnomalyDetector.load({ modelsDir: dir })).rejects.toThrow(/window features: feature 0 is 'PS1.std'/);
  });

  it('given an unknown version or a missing manifest, then it fails fast with a clear message', async () => {
    await expect(AnomalyDetector.load({ modelsDir: MODELS_DIR, version: 'nope' })).rejects.toThrow(/version 'nope' not found/);
    await expect(AnomalyDetector.load({ modelsDir: path.join(tmpdir(), 'does-not-exist') })).rejects.toThrow(/manifest.json: cannot read/);
  });

  it('given every supervised model switched off, then load refuses', async () => {
    await expect(AnomalyDetector.load({ modelsDir: MODELS_DIR, flags: { rf: false, xgb: false, helm: false } })).rejects.toThrow(/at least one/);
  });
});
