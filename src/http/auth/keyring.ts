import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AppConfig } from '../../config/config.schema.js';
import { ConfigError } from '../../config/load-config.js';
import { ApiKeysConfigError, parseApiKeys, sha256Hex, type ApiKeyEntry } from './api-keys.js';

/** The keys the service accepts; `undefined` when AUTH=off. */
export type Keyring = ApiKeyEntry[] | undefined;

export const BOOTSTRAP_KEY_FILE = 'api-keys';

/**
 * Resolves the keys at start-up:
 * AUTH=off → none, with a warning at every start; API_KEYS → those; server mode without either → refuse
 * to start; embedded mode without API_KEYS → an admin key created on first start, its hash kept in
 * DATA_DIR/api-keys and the key printed once to stderr (never to the JSON log).
 */
export function resolveKeyring(config: AppConfig, logger: Logger, print: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Keyring {
  if (config.AUTH === 'off') {
    logger.warn({ auth: 'off' }, 'AUTHENTICATION IS OFF (AUTH=off): every API route is open to anyone who can reach this port');
    return undefined;
  }
  if (config.API_KEYS) {
    try {
      const keys = parseApiKeys(config.API_KEYS);
      if (!keys.length) throw new ApiKeysConfigError('API_KEYS has no entries');
      logger.info({ api_keys: keys.map((k) => ({ id: k.id, scopes: k.scopes })) }, 'API keys loaded');
      return keys;
    } catch (error) {
      if (error instanceof ApiKeysConfigError) throw new ConfigError([error.message]);
      throw error;
    }
  }
  if (config.DATABASE_URL || config.EVENTSTORE_URL) {
    throw new ConfigError(['API_KEYS is not set: server mode needs API keys (or AUTH=off, explicitly, for a throw-away test). See docs/security.md']);
  }
  if (config.DATA_DIR.startsWith('memory://')) {
    const key = randomBytes(32).toString('base64url');
    print(`No API_KEYS and an in-memory DATA_DIR: this run's admin key (not stored) is ${key}`);
    return parseApiKeys(`admin:admin:${sha256Hex(key)}`);
  }
  const file = join(config.DATA_DIR, BOOTSTRAP_KEY_FILE);
  if (existsSync(file)) {
    const keys = parseApiKeys(readFileSync(file, 'utf8').replace(/\s+/g, ','));
    logger.info({ api_keys: keys.map((k) => ({ id: k.id, scopes: k.scopes })), file }, 'API keys loaded from DATA_DIR');
    return keys;
  }
  const key = randomBytes(32).toString('base64url');
  mkdirSync(config.DATA_DIR, { recursive: true });
  writeFileSync(file, `admin:admin:${sha256Hex(key)}\n`, { mode: 0o600, flag: 'wx' });
  print(
    [
      '',
      '================================================================================',
      ' First start: created an admin API key. It is shown only this once; only its',
      ` SHA-256 is kept (${file}).`,
      `   API key: ${key}`,
      '   curl -H "Authorization: Bearer <key>" http://localhost:3000/api/v1/...',
      '================================================================================',
      '',
    ].join('\n'),
  );
  logger.warn({ file, key_id: 'admin' }, 'created the bootstrap admin API key (printed once to stderr)');
  return parseApiKeys(`admin:admin:${sha256Hex(key)}`);
}
