import { describe, expect, it } from '@jest/globals';
import { redactRequestUrl, redactSecrets, redactUrlValue } from './redact.js';

describe('redaction', () => {
  it('given a request URL with a query, when logged, then no query value remains', () => {
    expect(redactRequestUrl('/api/v1/quarantine?api_key=abc&limit=5&flag')).toBe('/api/v1/quarantine?api_key=[redacted]&limit=[redacted]&flag');
    expect(redactRequestUrl('/health/live')).toBe('/health/live');
    expect(redactRequestUrl('/x?' + 'a'.repeat(5000))!.length).toBeLessThan(2100);
  });

  it('given connection strings with a password, when redacted, then neither password nor query survives', () => {
    const text = 'DATABASE_URL="postgres://app:s3cret@db:5432/x?sslpassword=p2": bad; NATS_URL="nats://u:pw@n:4222"; esdb://admin:changeit@h:2113?tls=false';
    const out = redactSecrets(text);
    expect(out).not.toMatch(/s3cret|p2|pw@|changeit/);
    expect(out).toContain('postgres://app:[redacted]@db:5432/x?[redacted]');
    expect(out).toContain('nats://u:[redacted]@n:4222');
  });

  it('given a malformed connection string, when redacted, then nothing before the last @ nor the query remains', () => {
    expect(redactUrlValue('postgres://app:pa ss/w@rd@db host:5432/x?password=p')).toBe('postgres://[redacted]@db host:5432/x?[redacted]');
    expect(redactUrlValue('nats:/u:pw@n')).toBe('[redacted]@n');
    expect(redactUrlValue('esdb://h:2113')).toBe('esdb://h:2113');
  });
});
