import { describe, expect, it } from '@jest/globals';
import { ANY, NO_STREAM, STREAM_EXISTS } from '@kurrent/kurrentdb-client';
import { matches, serverFilter, toExpected } from './eventstoredb-mappings.js';

/** The pure mappings of the EventStoreDB adapter; the adapter itself runs the contract suite against a server. */
describe('eventstoredb adapter mappings', () => {
  it('maps expected revisions to the client’s', () => {
    expect(toExpected('any')).toBe(ANY);
    expect(toExpected('no_stream')).toBe(NO_STREAM);
    expect(toExpected(-1)).toBe(NO_STREAM);
    expect(toExpected('stream_exists')).toBe(STREAM_EXISTS);
    expect(toExpected(41)).toBe(41n);
  });

  it('sends stream prefixes to the server, else event types as an exact-match regex, else excludes system events', () => {
    expect(serverFilter({ streamPrefixes: ['readings-'], eventTypes: ['A'] }, 1)).toMatchObject({ filterOn: 'streamName', prefixes: ['readings-'] });
    const byType = serverFilter({ eventTypes: ['ReadingsIngested', 'A.b+'] }, 1) as { filterOn: string; regex: string };
    expect(byType.filterOn).toBe('eventType');
    const regex = new RegExp(byType.regex);
    expect(regex.test('ReadingsIngested')).toBe(true);
    expect(regex.test('A.b+')).toBe(true);
    expect(regex.test('ReadingsIngestedV2')).toBe(false);
    expect(regex.test('Axbb')).toBe(false);
    const none = serverFilter(undefined, 1) as { regex: string };
    expect(new RegExp(none.regex).test('$stats')).toBe(false);
  });

  it('checks the part of the filter the server did not, and never passes system events', () => {
    const filter = { streamPrefixes: ['readings-'], eventTypes: ['ReadingsIngested'] };
    expect(matches({ streamId: 'readings-1', type: 'ReadingsIngested' }, filter)).toBe(true);
    expect(matches({ streamId: 'readings-1', type: 'ReadingsQuarantined' }, filter)).toBe(false);
    expect(matches({ streamId: 'anomalies-1', type: 'ReadingsIngested' }, filter)).toBe(false);
    expect(matches({ streamId: '$scavenges', type: 'x' }, undefined)).toBe(false);
    expect(matches({ streamId: 's', type: '$metadata' }, undefined)).toBe(false);
  });
});
