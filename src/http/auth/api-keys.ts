import { createHash, timingSafeEqual } from 'node:crypto';
import { isScope, type Scope } from './scopes.js';

export interface ApiKeyEntry {
  id: string;
  scopes: Scope[];
  /** SHA-256 of the key. The key itself is never stored or logged. */
  hash: Buffer;
}

export class ApiKeysConfigError extends Error {}

export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Parses `API_KEYS`: comma-separated `<key-id>:<scope>|<scope>|...:<sha256 hex of the key>`. */
export function parseApiKeys(value: string): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  const ids = new Set<string>();
  for (const [i, raw] of value.split(',').map((s) => s.trim()).filter(Boolean).entries()) {
    const parts = raw.split(':');
    const where = `API_KEYS entry ${i + 1}`;
    if (parts.length !== 3) throw new ApiKeysConfigError(`${where}: expected <key-id>:<scope>|...:<sha256 hex>`);
    const [id, scopeList, hash] = parts as [string, string, string];
    if (!KEY_ID.test(id)) throw new ApiKeysConfigError(`${where}: key id must be 1-64 of A-Z a-z 0-9 . _ -`);
    if (ids.has(id)) throw new ApiKeysConfigError(`${where}: key id ${id} appears twice`);
    const scopes = scopeList.split('|').filter(Boolean);
    const unknown = scopes.filter((s) => !isScope(s));
    if (!scopes.length || unknown.length) throw new ApiKeysConfigError(`${where} (${id}): unknown or missing scope ${unknown.join(', ')}`);
    if (!HEX64.test(hash.toLowerCase())) throw new ApiKeysConfigError(`${where} (${id}): the last part must be the 64-hex SHA-256 of the key, not the key`);
    ids.add(id);
    entries.push({ id, scopes: scopes as Scope[], hash: Buffer.from(hash.toLowerCase(), 'hex') });
  }
  return entries;
}

/**
 * Finds the entry whose hash matches the presented key. Compares against every entry with
 * timingSafeEqual (no early exit), so timing reveals neither which key nor how much of it matched.
 */
export function findApiKey(entries: readonly ApiKeyEntry[], presented: string): ApiKeyEntry | undefined {
  const hash = createHash('sha256').update(presented, 'utf8').digest();
  let found: ApiKeyEntry | undefined;
  for (const entry of entries) if (timingSafeEqual(entry.hash, hash) && !found) found = entry;
  return found;
}

/** The key from `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const header = headers['x-api-key'];
  return typeof header === 'string' && header.trim() ? header.trim() : undefined;
}
