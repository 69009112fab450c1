import { describe, expect, it } from '@jest/globals';
import {
  createCloudEvent,
  fromDelivery,
  InMemoryTransport,
  isJsonContentType,
  isRfc3339,
  isTraceparent,
  parseCloudEvent,
  toMessage,
  type CloudEvent,
  type Delivery,
} from '../src/index.js';
import { invalid } from './transport.contract.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function delivery(body: unknown, headers: Record<string, string> = {}): Delivery {
  return { id: 'm1', target: { topic: 't', fanout: true }, headers, body, attempt: 1 };
}

describe('createCloudEvent', () => {
  it('fills specversion, a random UUID id, the current time and the JSON content type', () => {
    const before = Date.now();
    const event = createCloudEvent({
      source: 'neutron-server@host-1',
      type: 'herald.router.after_create',
      data: { a: 1 },
    });
    expect(event).toEqual({
      specversion: '1.0',
      id: expect.stringMatching(UUID),
      source: 'neutron-server@host-1',
      type: 'herald.router.after_create',
      time: expect.any(String),
      datacontenttype: 'application/json',
      data: { a: 1 },
    });
    expect(Date.parse(event.time!)).toBeGreaterThanOrEqual(before - 1);
    expect(isRfc3339(event.time)).toBe(true);
    expect(createCloudEvent({ source: 's', type: 't' }).id).not.toBe(event.id);
  });

  it('keeps the given id, subject, time and traceparent; a Date becomes an RFC 3339 string', () => {
    const event = createCloudEvent({
      source: 's',
      type: 't',
      id: 'e-1',
      subject: 'r1',
      time: new Date(Date.UTC(2025, 0, 31, 12)),
      traceparent: TRACEPARENT,
      data: null,
    });
    expect(event).toMatchObject({
      id: 'e-1',
      subject: 'r1',
      time: '2025-01-31T12:00:00.000Z',
      traceparent: TRACEPARENT,
      data: null,
      datacontenttype: 'application/json',
    });
    expect(createCloudEvent({ source: 's', type: 't', time: '2025-01-31T12:00:00+01:00' }).time).toBe(
      '2025-01-31T12:00:00+01:00',
    );
  });

  it('has no data nor content type without data', () => {
    const event = createCloudEvent({ source: 's', type: 't' });
    expect('data' in event).toBe(false);
    expect('datacontenttype' in event).toBe(false);
    expect('subject' in event).toBe(false);
  });

  it.each([
    ['source', { source: '', type: 't' }],
    ['source', { type: 't' }],
    ['type', { source: 's', type: 42 }],
    ['id', { source: 's', type: 't', id: '' }],
    ['subject', { source: 's', type: 't', subject: '' }],
    ['time', { source: 's', type: 't', time: '31/01/2025' }],
    ['time', { source: 's', type: 't', time: new Date(Number.NaN) }],
    ['traceparent', { source: 's', type: 't', traceparent: 'abc' }],
    ['traceparent', { source: 's', type: 't', traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` }],
    ['data', { source: 's', type: 't', data: () => 1 }],
    ['data', { source: 's', type: 't', data: 1n }],
  ])('refuses a bad %s', (element, init) => {
    expect(invalid(() => createCloudEvent(init as never)).element).toBe(element);
  });

  it('refuses something that is not an object', () => {
    expect(invalid(() => createCloudEvent(null as never)).element).toBe('event');
  });
});

describe('parseCloudEvent', () => {
  const valid = { specversion: '1.0', id: 'e-1', source: 's', type: 't' };

  it('returns the known attributes of a valid event, as a new object', () => {
    const raw = {
      ...valid,
      time: '2025-01-31T12:00:00Z',
      subject: 'r1',
      datacontenttype: 'application/json',
      data: { x: [1] },
      traceparent: TRACEPARENT,
      partitionkey: 'p', // an extension Herald does not know: dropped
    };
    const event = parseCloudEvent(raw);
    expect(event).not.toBe(raw);
    expect(event).toEqual({
      ...valid,
      time: '2025-01-31T12:00:00Z',
      subject: 'r1',
      datacontenttype: 'application/json',
      data: { x: [1] },
      traceparent: TRACEPARENT,
    });
  });

  it('accepts an event without optional attributes, and data without a content type', () => {
    expect(parseCloudEvent(valid)).toEqual(valid);
    expect(parseCloudEvent({ ...valid, data: 0 })).toEqual({ ...valid, data: 0, datacontenttype: 'application/json' });
  });

  it.each([
    ['event.specversion', { ...valid, specversion: '0.3' }],
    ['event.specversion', { id: 'e', source: 's', type: 't' }],
    ['event.id', { ...valid, id: undefined }],
    ['event.id', { ...valid, id: 7 }],
    ['event.source', { ...valid, source: '' }],
    ['event.type', { ...valid, type: null }],
    ['event.time', { ...valid, time: 'yesterday' }],
    ['event.time', { ...valid, time: '2025-13-01T00:00:00Z' }],
    ['event.subject', { ...valid, subject: 3 }],
    ['event.datacontenttype', { ...valid, datacontenttype: 'text/plain', data: 'x' }],
  ])('names %s when it is missing or malformed', (element, raw) => {
    expect(invalid(() => parseCloudEvent(raw)).element).toBe(element);
  });

  it.each([
    'application/json; charset=utf-8',
    'Application/JSON;charset=UTF-8',
    'application/json ; charset=utf-8',
    'application/cloudevents+json',
    'application/vnd.example+json; charset=utf-8',
    'APPLICATION/VND.EXAMPLE+JSON',
  ])('accepts JSON data of content type %p, and keeps the content type', (datacontenttype) => {
    const raw = { ...valid, datacontenttype, data: { a: 1 } };
    expect(parseCloudEvent(raw)).toEqual(raw);
    expect(fromDelivery(delivery(raw))).toEqual(raw);
    expect(isJsonContentType(datacontenttype)).toBe(true);
  });

  it.each([
    'text/plain',
    'application/xml',
    'application/jsonx',
    'application/json+xml',
    'json',
    '+json',
    '/x+json',
    '',
  ])('refuses data of content type %p, which is not JSON', (datacontenttype) => {
    expect(invalid(() => parseCloudEvent({ ...valid, datacontenttype, data: 'x' })).element).toBe(
      'event.datacontenttype',
    );
    expect(isJsonContentType(datacontenttype)).toBe(false);
  });

  it.each([null, 'text', 3, [valid]])('refuses %p, which is not an event object', (raw) => {
    expect(invalid(() => parseCloudEvent(raw)).element).toBe('event');
  });

  it('drops a malformed traceparent instead of refusing the event (W3C: ignore it)', () => {
    const event = parseCloudEvent({ ...valid, traceparent: 'not-a-trace' });
    expect(event).toEqual(valid);
  });

  it('accepts RFC 3339 variants and a leap second', () => {
    for (const time of ['2025-01-31t12:00:00z', '2016-12-31T23:59:60Z', '2025-01-31 12:00:00.123456-05:30']) {
      expect(parseCloudEvent({ ...valid, time }).time).toBe(time);
    }
  });
});

describe('toMessage and fromDelivery', () => {
  it('makes a message whose headers mirror the event, ce-id its own id', () => {
    const event = createCloudEvent({ source: 's', type: 't', id: 'e-1', data: 1, traceparent: TRACEPARENT });
    expect(toMessage(event)).toEqual({
      id: expect.any(String),
      headers: { 'ce-id': 'e-1', 'ce-type': 't', 'ce-source': 's', traceparent: TRACEPARENT },
      body: event,
    });
    const plain = toMessage(createCloudEvent({ source: 's', type: 't', id: 'e-2' }));
    expect(plain.headers).toEqual({ 'ce-id': 'e-2', 'ce-type': 't', 'ce-source': 's' });
  });

  it('gives the message an id made of source and id: the same event twice shares it, no other event does', () => {
    const make = (source: string, id: string, type = 't') => createCloudEvent({ source, type, id, data: type });
    const id = toMessage(make('server-1', 'evt-1')).id;
    expect(toMessage(make('server-1', 'evt-1', 'another type')).id).toBe(id); // sent again
    expect(toMessage({ ...make('server-1', 'evt-1'), time: '2020-01-01T00:00:00Z' }).id).toBe(id);
    const others = [
      make('server-2', 'evt-1'), // another source reusing the id
      make('server-1', 'evt-2'),
      make('server-1 evt-1', 'x'), // no way to make one pair read as another
      make('server-1', 'evt-1 x'),
    ].map((event) => toMessage(event).id);
    expect(new Set([id, ...others]).size).toBe(5);
    // It fits a broker's message id (AMQP: 255 bytes), however long the parts.
    expect(toMessage(make('s'.repeat(500), 'i'.repeat(500))).id).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reads the event's own id back from a delivery of the message", async () => {
    const transport = new InMemoryTransport();
    const received: [string, CloudEvent][] = [];
    await transport.consume({ topic: 'events' }, (d) => void received.push([d.id, fromDelivery(d)]));
    const event = createCloudEvent({ source: 'server-1', type: 't', id: 'evt-1' });
    const message = toMessage(event);
    await transport.publish({ topic: 'events' }, message);
    await transport.idle();
    await transport.close();
    expect(received).toEqual([[message.id, event]]);
  });

  it('lets a group handle an event once, and the same id from another source too', async () => {
    const transport = new InMemoryTransport();
    const sources: string[] = [];
    await transport.consume({ topic: 'events' }, (d) => void sources.push(fromDelivery(d).source));
    for (const source of ['server-1', 'server-1', 'server-2']) {
      await transport.publish({ topic: 'events' }, toMessage(createCloudEvent({ source, type: 't', id: 'evt-1' })));
    }
    await transport.idle();
    await transport.close();
    expect(sources).toEqual(['server-1', 'server-2']);
  });

  it('refuses a hand-made event that is not valid', () => {
    const event = { specversion: '1.0', id: 'e', source: '', type: 't' } as CloudEvent;
    expect(invalid(() => toMessage(event)).element).toBe('event.source');
    const traced = { specversion: '1.0', id: 'e', source: 's', type: 't', traceparent: 'x' } as CloudEvent;
    expect(invalid(() => toMessage(traced)).element).toBe('event.traceparent');
  });

  it('reads the event from the body; a traceparent header fills in a missing one only', () => {
    const event = createCloudEvent({ source: 's', type: 't', id: 'e-1' });
    expect(fromDelivery(delivery(event))).toEqual(event);
    expect(fromDelivery(delivery(event, { traceparent: TRACEPARENT })).traceparent).toBe(TRACEPARENT);
    expect(fromDelivery(delivery(event, { traceparent: 'bad' })).traceparent).toBeUndefined();
    const other = '00-11111111111111111111111111111111-2222222222222222-00';
    const traced = createCloudEvent({ source: 's', type: 't', traceparent: TRACEPARENT });
    expect(fromDelivery(delivery(traced, { traceparent: other })).traceparent).toBe(TRACEPARENT);
  });

  it('refuses a delivery whose body is not a CloudEvent', () => {
    expect(invalid(() => fromDelivery(delivery({ hello: 'world' }))).element).toBe('event.specversion');
    expect(invalid(() => fromDelivery(null as never)).element).toBe('delivery');
  });

  it('survives a trip through the in-memory transport', async () => {
    const transport = new InMemoryTransport();
    const received: CloudEvent[] = [];
    const headers: Readonly<Record<string, string>>[] = [];
    await transport.consume({ topic: 'events', fanout: true }, (d) => {
      received.push(fromDelivery(d));
      headers.push(d.headers);
    });
    const event = createCloudEvent({ source: 's', type: 't', subject: 'r1', data: { when: new Date(0) } });
    await transport.publish({ topic: 'events', fanout: true }, toMessage(event));
    await transport.idle();
    await transport.close();
    expect(received).toEqual([{ ...event, data: { when: '1970-01-01T00:00:00.000Z' } }]);
    expect(headers[0]).toMatchObject({ 'ce-id': event.id, 'ce-source': 's', 'ce-type': 't' });
  });

  it('checks traceparent and time formats', () => {
    expect(isTraceparent(TRACEPARENT)).toBe(true);
    expect(isTraceparent(TRACEPARENT.toUpperCase())).toBe(false);
    expect(isTraceparent(`00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`)).toBe(false);
    expect(isRfc3339('2025-01-31T12:00:00')).toBe(false); // no offset
    expect(isRfc3339(0)).toBe(false);
  });
});
