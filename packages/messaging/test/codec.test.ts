import { describe, expect, it } from '@jest/globals';
import { APIEventPayload, DBEventPayload, EventPayload } from '@herald/core';
import { decodePayload, encodePayload, type EncodedPayload } from '../src/index.js';
import { invalid } from './transport.contract.js';

interface Router {
  id: string;
  name: string;
  routes?: string[];
}

/** Encode, send as JSON (as every transport does), decode. */
function trip(payload: EventPayload | undefined): EventPayload | undefined {
  return decodePayload(JSON.parse(JSON.stringify(encodePayload(payload))) as EncodedPayload | null);
}

const ctx = { tenantId: 't1', isAdmin: false, roles: ['member'] };
const before: Router = { id: 'r1', name: 'edge' };
const after: Router = { id: 'r1', name: 'edge-2', routes: ['10.0.0.0/8'] };

describe('encodePayload / decodePayload', () => {
  it('carries a DBEventPayload as a DBEventPayload with every field', () => {
    const payload = new DBEventPayload<Router>(ctx, {
      metadata: { port_id: 'p1' },
      requestBody: { name: 'edge-2' },
      states: [before],
      resourceId: 'r1',
      desiredState: after,
    });
    const copy = trip(payload);
    expect(copy).toBeInstanceOf(DBEventPayload);
    expect(copy).toEqual(payload);
    const db = copy as DBEventPayload<Router>;
    expect(db.desiredState).toEqual(after);
    expect(db.desiredState).not.toBe(after); // a copy, not the sender's object
    expect(db.latestState).toEqual(after);
    expect(db.isToBeCommitted).toBe(true);
    expect(db.isPersisted).toBe(true);
  });

  it('carries an APIEventPayload as an APIEventPayload with every field', () => {
    const payload = new APIEventPayload<Router>(ctx, {
      methodName: 'create_router',
      action: 'create',
      collectionName: 'routers',
      requestBody: { name: 'edge' },
      states: [before],
      resourceId: 'r1',
      metadata: { a: 1 },
    });
    const copy = trip(payload) as APIEventPayload<Router>;
    expect(copy).toBeInstanceOf(APIEventPayload);
    expect(copy).toEqual(payload);
    expect([copy.methodName, copy.action, copy.collectionName]).toEqual(['create_router', 'create', 'routers']);
  });

  it('carries a plain EventPayload as an EventPayload, not a subclass', () => {
    const payload = new EventPayload(ctx, { states: [before, after], resourceId: 7 });
    const copy = trip(payload)!;
    expect(copy.constructor).toBe(EventPayload);
    expect(copy).toEqual(payload);
    expect(copy.resourceId).toBe(7); // a number stays a number
    expect(copy.latestState).toEqual(after);
  });

  it('keeps absent fields absent and defaults as the constructors give them', () => {
    const copy = trip(new DBEventPayload(undefined)) as DBEventPayload;
    expect(copy).toBeInstanceOf(DBEventPayload);
    expect(copy.context).toBeUndefined();
    expect(copy.metadata).toEqual({});
    expect(copy.states).toEqual([]);
    expect(copy.requestBody).toBeUndefined();
    expect(copy.resourceId).toBeUndefined();
    expect(copy.desiredState).toBeUndefined();
    const api = trip(new APIEventPayload(null, { methodName: 'm', action: 'a' })) as APIEventPayload;
    expect(api.context).toBeNull();
    expect(api.collectionName).toBeUndefined();
  });

  it('writes plain JSON with a kind discriminator', () => {
    const encoded = encodePayload(new DBEventPayload(ctx, { resourceId: 'r1', desiredState: after }));
    expect(encoded).toEqual({
      kind: 'DBEventPayload',
      context: ctx,
      metadata: {},
      states: [],
      resourceId: 'r1',
      desiredState: after,
    });
    expect(JSON.parse(JSON.stringify(encoded))).toEqual(encoded);
    expect(encodePayload(new EventPayload(1))?.kind).toBe('EventPayload');
    expect(encodePayload(new APIEventPayload(1, { methodName: 'm', action: 'a' }))?.kind).toBe('APIEventPayload');
  });

  it('encodes no payload as null, and decodes null (or undefined) as no payload', () => {
    expect(encodePayload(undefined)).toBeNull();
    expect(decodePayload(null)).toBeUndefined();
    expect(decodePayload(undefined)).toBeUndefined();
    expect(trip(undefined)).toBeUndefined();
  });

  it('JSON-copies at encoding time: class instances become plain objects, Dates strings', () => {
    class Context {
      constructor(readonly user: string) {}
      get upper(): string {
        return this.user.toUpperCase();
      }
    }
    const state = { id: 'r1', createdAt: new Date(0), extra: undefined };
    const payload = new DBEventPayload(new Context('alice'), { states: [state] });
    const encoded = encodePayload(payload);
    state.id = 'changed later'; // the encoded form is a snapshot
    const copy = decodePayload(JSON.parse(JSON.stringify(encoded)))!;
    expect(copy.context).toEqual({ user: 'alice' });
    expect(copy.context).not.toBeInstanceOf(Context);
    expect(copy.states).toEqual([{ id: 'r1', createdAt: '1970-01-01T00:00:00.000Z' }]);
  });

  it("sends what a context's toJSON returns (as oslo sends context.to_dict())", () => {
    const session = { cyclic: undefined as unknown };
    session.cyclic = session;
    const context = { userId: 'u1', session, toJSON: () => ({ userId: 'u1' }) };
    expect(trip(new EventPayload(context))!.context).toEqual({ userId: 'u1' });
  });

  it('decodes a subclass as its nearest Herald class', () => {
    class RouterPayload extends DBEventPayload<Router> {
      readonly gateway = 'gw';
    }
    const copy = trip(new RouterPayload(ctx, { states: [before], resourceId: 'r1' }));
    expect(copy?.constructor).toBe(DBEventPayload);
    expect(copy).toMatchObject({ resourceId: 'r1', states: [before] });
    expect(copy).not.toHaveProperty('gateway');
  });

  it('names the field that JSON cannot carry', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(invalid(() => encodePayload(new EventPayload(cyclic))).element).toBe('payload.context');
    expect(invalid(() => encodePayload(new EventPayload(1, { metadata: { n: 1n } }))).element).toBe('payload.metadata');
    expect(invalid(() => encodePayload(new EventPayload(1, { requestBody: cyclic }))).element).toBe(
      'payload.requestBody',
    );
    expect(invalid(() => encodePayload(new EventPayload(1, { states: [cyclic] }))).element).toBe('payload.states');
    expect(invalid(() => encodePayload(new DBEventPayload(1, { desiredState: cyclic }))).element).toBe(
      'payload.desiredState',
    );
    expect(invalid(() => encodePayload(new EventPayload(() => 1))).element).toBe('payload.context');
  });

  it('refuses something that is not a payload', () => {
    expect(invalid(() => encodePayload({ context: 1 } as never)).element).toBe('payload');
  });

  it.each([
    ['encoded payload', 'DBEventPayload'],
    ['encoded payload', [1]],
    ['encoded payload.kind', { metadata: {}, states: [] }],
    ['encoded payload.kind', { kind: 'RouterPayload', metadata: {}, states: [] }],
    ['encoded payload.metadata', { kind: 'EventPayload', states: [] }],
    ['encoded payload.states', { kind: 'DBEventPayload', metadata: {}, states: {} }],
    ['encoded payload.resourceId', { kind: 'EventPayload', metadata: {}, states: [], resourceId: true }],
    ['encoded payload.methodName', { kind: 'APIEventPayload', metadata: {}, states: [], action: 'a' }],
    ['encoded payload.action', { kind: 'APIEventPayload', metadata: {}, states: [], methodName: 'm', action: '' }],
    [
      'encoded payload.collectionName',
      { kind: 'APIEventPayload', metadata: {}, states: [], methodName: 'm', action: 'a', collectionName: 1 },
    ],
  ])('refuses malformed input, naming %s', (element, encoded) => {
    expect(invalid(() => decodePayload(encoded as never)).element).toBe(element);
  });

  it('ignores fields it does not know (a newer sender may add some)', () => {
    const copy = decodePayload({ kind: 'EventPayload', metadata: {}, states: [], resourceId: 'r1', v: 2 } as never);
    expect(copy).toEqual(new EventPayload(undefined, { resourceId: 'r1' }));
  });
});
