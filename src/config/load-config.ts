import { redactUrlValue } from '../observability/redact.js';
import { configSchema, type AppConfig } from './config.schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment once; empty strings count as unset so `FOO= npm start` behaves like no FOO. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const known = Object.keys(configSchema.def.innerType.shape);
  const input: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value.trim();
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      // A malformed connection string is named without its password or query (they used to be echoed).
      parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(shown(String(i.path[0]), input[String(i.path[0])] ?? ''))}: ${i.message}`),
    );
  }
  return parsed.data;
}

/** Connection strings (and anything holding `://` or `@`) are shown without credentials or query. */
function shown(key: string, value: string): string {
  return /_URL$/.test(key) || value.includes('://') ? redactUrlValue(value) : value;
}

export type RunMode = 'embedded' | 'server' | 'production';

export function runMode(config: AppConfig): RunMode {
  if (config.EVENTSTORE_URL) return 'production';
  return config.DATABASE_URL ? 'server' : 'embedded';
}
