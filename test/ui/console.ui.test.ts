/**
 * The operator console in headless Chromium (Debian's, driven by playwright-core) against the built service
 * (dist/, `npm run build` first) on a free port with its own PostgreSQL database, AUTH on. Screenshots of each
 * page go to test/ui/artifacts/ (git-ignored).
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { loadSampleCycles } from '../../scripts/demo/sample-cycles.js';
import { launchChromium } from '../../scripts/ui/chromium.js';
import { sha256Hex } from '../../src/http/auth/api-keys.js';
import { spawnService, type SpawnedService } from '../support/spawn-service.js';
import { createPostgresDatabase } from '../support/test-databases.js';

const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const KEY = 'ui-test-admin-key-0123456789abcdef';
const T0 = Date.parse('2026-04-01T08:00:00Z');
const sample = loadSampleCycles();

describe('operator console in Chromium', () => {
  let drop: (() => Promise<void>) | undefined;
  let service: SpawnedService | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base = '';
  const requests: string[] = [];

  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...init.headers } });
    const body = await res.text();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${body}`);
    return JSON.parse(body);
  };
  /** Cycles of models/sample as one ingest batch; `faulty` picks which positions get a faulty cycle. */
  const ingest = (system: string, equipment: string, first: number, count: number, faulty: (k: number) => boolean) =>
    api('/api/v1/ingest', {
      method: 'POST',
      body: JSON.stringify(
        Array.from({ length: count }, (_, k) => first + k).flatMap((k) =>
          sample.rows(faulty(k) ? sample.faulty[k % sample.faulty.length]! : sample.healthy[k % sample.healthy.length]!, T0 + k * 60_000, system, equipment),
        ),
      ),
    });
  const openAnomalies = async (system: string) =>
    ((await api('/api/v1/systems')).items as { system_id: string; open_anomalies: number }[]).find((s) => s.system_id === system)?.open_anomalies ?? 0;
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await promisify(execFile)('npm', ['run', 'build', '--silent']);
    const db = await createPostgresDatabase();
    drop = db.drop;
    service = spawnService({ DATABASE_URL: db.url, AUTH: 'on', API_KEYS: `root:admin:${sha256Hex(KEY)}`, SAGA_FLUSH_TIMEOUT_MS: '1500' });
    base = `http://127.0.0.1:${await service.port(120_000)}`;
    await ingest('ui-rig-1', 'press-1', 0, 12, (k) => k % 2 === 0);
    await ingest('ui-rig-1', 'press-2', 0, 12, (k) => k % 3 === 0);
    await ingest('ui-rig-2', 'pump-1', 0, 4, (k) => k === 1);
    await api('/api/v1/ingest', { method: 'POST', body: JSON.stringify([{ system_id: 'ui-rig-1', equipment_id: 'press-1', sensor_id: 'PS1', ts: 'yesterday', v: 'abc' }]) });
    // Every window closed (the last by the saga's flush timeout) and projected.
    const deadline = Date.now() + 90_000;
    let last = -1;
    for (;;) {
      const n = await openAnomalies('ui-rig-1');
      if (n >= 8 && n === last) break;
      if (Date.now() > deadline) throw new Error(`only ${n} anomalies projected`);
      last = n;
      await new Promise((r) => setTimeout(r, 3000));
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('request', (r) => requests.push(r.url()));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (service) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await drop?.();
  }, 60_000);

  it('asks for the key once, keeps it in sessionStorage, and lists the systems', async () => {
    await page.goto(`${base}/`);
    await page.locator('.key-dialog input[type=password]').fill(KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.locator('.system h2 a').first().waitFor();
    expect(await page.locator('.system h2 a').allTextContents()).toEqual(['ui-rig-1', 'ui-rig-2']);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(KEY);
    await page.reload();
    await page.locator('.system h2 a').first().waitFor();
    expect(await page.locator('.key-dialog').count()).toBe(0);
    await shot('overview');
  }, 60_000);

  it('shows an anomaly ingested during the test without a reload', async () => {
    const card = page.locator('section.system', { has: page.locator('h2 a', { hasText: 'ui-rig-2' }) });
    const before = Number(await card.locator('[data-open]').getAttribute('data-open'));
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    await ingest('ui-rig-2', 'pump-1', 4, 3, () => true);
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('section.system')].some((s) => s.querySelector('h2 a')?.textContent === 'ui-rig-2' && Number(s.querySelector('[data-open]')?.getAttribute('data-open')) > n),
      before,
      { timeout: 60_000 },
    );
    expect(navigations).toBe(0);
  }, 90_000);

  it('changes the table with a swimlane cell, the filters and paging', async () => {
    await page.goto(`${base}/#/system/ui-rig-1?limit=4&range=24h`);
    const rows = page.locator('[data-testid=anomaly-table] tbody tr');
    await rows.first().waitFor();
    const ids = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-anomaly')));
    const first = await ids();
    expect(first).toHaveLength(4);
    await shot('system');

    await page.getByRole('button', { name: 'Older →' }).click();
    await page.waitForFunction((prev) => document.querySelector('[data-testid=anomaly-table] tbody tr')?.getAttribute('data-anomaly') !== prev, first[0]);
    const second = await ids();
    expect(second.some((id) => first.includes(id))).toBe(false);
    await page.getByRole('button', { name: '← Newer' }).click();
    await page.waitForFunction((prev) => document.querySelector('[data-testid=anomaly-table] tbody tr')?.getAttribute('data-anomaly') === prev, first[0]);

    await page.locator('select[name=severity]').selectOption('critical');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=anomaly-table] tbody tr .sev')].every((s) => s.textContent === 'critical'));
    expect(page.url()).toContain('severity=critical');
    await page.locator('select[name=severity]').selectOption('');

    const cell = page.locator('.swimlane button.cell').first();
    const equipment = (await cell.getAttribute('data-equipment'))!;
    const bucket = Date.parse((await cell.getAttribute('data-bucket'))!);
    await cell.click();
    await page.waitForFunction((eq) => document.querySelector('.chip')?.textContent?.startsWith(eq), equipment);
    await page.waitForFunction(
      (eq) => [...document.querySelectorAll('[data-testid=anomaly-table] tbody tr td:nth-child(2)')].every((td) => td.textContent === eq),
      equipment,
    );
    const detail = await api(`/api/v1/anomalies/${(await ids())[0]}`);
    expect(detail.equipment_id).toBe(equipment);
    expect(Date.parse(detail.window_start) - bucket).toBeLessThan(3_600_000);
    expect(Date.parse(detail.window_start)).toBeGreaterThanOrEqual(bucket);
  }, 90_000);

  it('shows an anomaly with its 17 sensor curves and audit trail; feedback appears in the trail and the false-positive rate', async () => {
    await page.locator('[data-testid=anomaly-table] tbody tr a').first().click();
    await page.waitForFunction(() => document.querySelectorAll('.sensor canvas').length === 17, undefined, { timeout: 30_000 });
    const id = page.url().split('/anomaly/')[1]!.split('?')[0]!;
    const detail = await api(`/api/v1/anomalies/${id}`);
    const audit = page.getByTestId('audit');
    await expect(audit.textContent()).resolves.toContain(detail.correlation_id);
    for (const source of detail.source_event_ids) await expect(audit.textContent()).resolves.toContain(source);
    await shot('anomaly');

    await page.getByLabel('note (optional)').fill('sensor cable loose, not a fault');
    await page.getByRole('button', { name: 'False positive' }).click();
    await page.locator('ol.history li[data-verdict=false_positive]').waitFor();
    expect(await page.locator('ol.history li').first().textContent()).toContain('sensor cable loose');
    expect(await page.getByTestId('verdict').textContent()).toBe('false positive');

    await page.goto(`${base}/#/models`);
    const component = detail.affected_component ?? 'unattributed';
    const rate = page.locator(`section[data-version="${detail.model_version}"] tr[data-component="${component}"] [data-testid=feedback-fpr]`);
    await rate.waitFor();
    expect(await rate.textContent()).toBe('100.0 %');
  }, 90_000);

  // Before the promote test: the table lists the active version's anomalies by default.
  it('works from the keyboard: Tab reaches a swimlane cell and a table row, Enter opens them, the feedback buttons are reachable', async () => {
    /** Presses Tab until the focused element matches `selector` (and has `text`); fails if the page never gets there. */
    const tabTo = async (selector: string, text?: string, max = 400) => {
      for (let i = 0; i < max; i++) {
        await page.keyboard.press('Tab');
        const reached = await page.evaluate(
          ([sel, t]) => !!document.activeElement?.matches(sel!) && (t === undefined || document.activeElement.textContent?.trim() === t),
          [selector, text] as const,
        );
        if (reached) return;
      }
      throw new Error(`${max} Tab presses never reached ${selector} ${text ?? ''}`);
    };
    await page.goto(`${base}/#/system/ui-rig-1?limit=4&range=24h`);
    await page.reload(); // focus starts at the top of the document
    await page.locator('[data-testid=anomaly-table] tbody tr').first().waitFor();
    await page.locator('.swimlane button.cell').first().waitFor();

    await tabTo('.swimlane button.cell');
    const equipment = await page.evaluate(() => document.activeElement!.getAttribute('data-equipment'));
    await page.keyboard.press('Enter');
    await page.waitForFunction((eq) => document.querySelector('.chip')?.textContent?.startsWith(eq!), equipment);
    await page.waitForFunction(
      (eq) => [...document.querySelectorAll('[data-testid=anomaly-table] tbody tr td:nth-child(2)')].every((td) => td.textContent === eq),
      equipment,
    );

    await tabTo('[data-testid=anomaly-table] tbody tr a');
    const row = await page.evaluate(() => document.activeElement!.closest('tr')!.getAttribute('data-anomaly'));
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => location.hash.startsWith(`#/anomaly/${id}`), row);
    await page.waitForFunction(() => document.querySelectorAll('.sensor canvas').length === 17, undefined, { timeout: 30_000 });

    await tabTo('textarea');
    await page.keyboard.type('checked on site');
    await tabTo('form.feedback button', 'Confirm anomaly');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('False positive');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.locator('form.feedback [role=status]').waitFor();
    expect(await page.locator('form.feedback [role=status]').textContent()).toMatch(/^(Recorded: confirmed\.|You had already given this verdict\.)$/);
    await page.waitForFunction(() => document.querySelector('[data-testid=verdict]')?.textContent === 'confirmed');
  }, 90_000);

  it('promotes a model version and shows the new active one', async () => {
    await page.goto(`${base}/#/models`);
    const active = page.getByTestId('active-version');
    await active.waitFor();
    const before = await active.textContent();
    const other = before === 'hydraulic-17-1.0.0' ? 'hydraulic-17-1.1.0' : 'hydraulic-17-1.0.0';
    await page.getByRole('button', { name: `Promote ${other}` }).click();
    await page.waitForFunction((v) => document.querySelector('[data-testid=active-version]')?.textContent === v, other);
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByTestId('comparison').waitFor();
    await shot('models');
  }, 60_000);

  it('lists quarantined rows with their reasons', async () => {
    await page.goto(`${base}/#/quarantine?system_id=ui-rig-1`);
    await page.locator('table tbody tr').first().waitFor();
    expect(await page.locator('table tbody').textContent()).toContain('ts');
    await shot('quarantine');
  }, 30_000);

  it('is readable 390 px wide, in dark mode too', async () => {
    const narrow = await browser!.newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    narrow.on('request', (r) => requests.push(r.url()));
    await narrow.goto(`${base}/`);
    await narrow.evaluate((key) => sessionStorage.setItem('anomaly-console.api-key', key), KEY);
    await narrow.reload();
    for (const [name, hash] of [
      ['overview-390-dark', '#/'],
      ['system-390-dark', '#/system/ui-rig-1'],
    ] as const) {
      await narrow.goto(`${base}/${hash}`);
      await narrow.locator(name.startsWith('overview') ? '.system' : '.swimlane').first().waitFor();
      expect(await narrow.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await narrow.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    }
    await narrow.close();
  }, 60_000);

  it('made every request to the service origin only', () => {
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.filter((u) => !u.startsWith(`${base}/`))).toEqual([]);
  });
});
