import { describe, expect, it } from '@jest/globals';
import { unavailableDependency } from './dependency-unavailable.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('unavailableDependency', () => {
  it('given PostgreSQL connection failures, when classified, then they are the database', () => {
    expect(unavailableDependency(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe('database');
    expect(unavailableDependency(withCode('terminating connection due to administrator command', '57P01'))).toBe('database');
    expect(unavailableDependency(withCode('the database system is starting up', '57P03'))).toBe('database');
    expect(unavailableDependency(new Error('Connection terminated unexpectedly'))).toBe('database');
    expect(unavailableDependency(new Error('timeout exceeded when trying to connect'))).toBe('database');
  });

  it('given NATS errors, when classified, then they are NATS', () => {
    const timeout = new Error('TIMEOUT');
    timeout.name = 'TimeoutError';
    expect(unavailableDependency(timeout)).toBe('nats');
    const closed = new Error('closed connection');
    closed.name = 'ClosedConnectionError';
    expect(unavailableDependency(closed)).toBe('nats');
  });

  it('given a wrapped cause, when classified, then the cause decides', () => {
    expect(unavailableDependency(new Error('append failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') }))).toBe('database');
  });

  it('given ordinary errors, when classified, then none is an outage', () => {
    expect(unavailableDependency(withCode('duplicate key value violates unique constraint', '23505'))).toBeUndefined();
    expect(unavailableDependency(new TypeError('x is undefined'))).toBeUndefined();
    expect(unavailableDependency(undefined)).toBeUndefined();
  });
});
