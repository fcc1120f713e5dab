import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, runMode } from './load-config.js';

describe('loadConfig', () => {
  it('defaults to embedded mode with no environment', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.DATA_DIR).toBe('./data');
    expect(runMode(config)).toBe('embedded');
  });

  it('switches to server mode with DATABASE_URL', () => {
    expect(runMode(loadConfig({ DATABASE_URL: 'postgres://u@localhost:5432/db' }))).toBe('server');
  });

  it('names every bad value', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', MODEL_RF: 'maybe' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' });
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toContain('PORT="eighty"');
      expect(problems).toContain('DATABASE_URL="mysql://x": must be a postgres');
    }
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});
