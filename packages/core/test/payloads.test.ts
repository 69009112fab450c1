import { describe, expect, it } from '@jest/globals';
import { APIEventPayload, DBEventPayload, EventPayload, InvalidError } from '@herald/core';

describe('EventPayload', () => {
  it('keeps its context, metadata, request body, states and resource id by reference', () => {
    const context = { user: 'admin' };
    const metadata = { reason: 'test' };
    const requestBody = { name: 'r1' };
    const states = [{ name: 'r0' }, { name: 'r1' }];
    const payload = new EventPayload(context, { metadata, requestBody, states, resourceId: 'id-1' });
    expect(payload.context).toBe(context);
    expect(payload.metadata).toBe(metadata);
    expect(payload.requestBody).toBe(requestBody);
    expect(payload.states).toBe(states);
    expect(payload.resourceId).toBe('id-1');
  });

  it('defaults metadata to {} and states to [], and leaves the rest undefined', () => {
    const payload = new EventPayload(undefined);
    expect(payload.metadata).toEqual({});
    expect(payload.states).toEqual([]);
    expect(payload.requestBody).toBeUndefined();
    expect(payload.resourceId).toBeUndefined();
    expect(payload.hasStates).toBe(false);
    expect(payload.latestState).toBeUndefined();
  });

  it('gives each payload its own default metadata object', () => {
    const a = new EventPayload(undefined);
    const b = new EventPayload(undefined);
    a.metadata.touched = true;
    expect(b.metadata).toEqual({});
  });

  it('has states when any was given, and the last one is the latest', () => {
    const states = ['s1', 's2', 's3'];
    const payload = new EventPayload(undefined, { states });
    expect(payload.hasStates).toBe(true);
    expect(payload.latestState).toBe('s3');
  });

  it('reads null metadata and states as none given, as Neutron reads None', () => {
    const payload = new EventPayload(undefined, { metadata: null, states: null });
    expect(payload.metadata).toEqual({});
    expect(payload.states).toEqual([]);
    expect(payload.hasStates).toBe(false);
    expect(payload.latestState).toBeUndefined();
    expect(new DBEventPayload(undefined, { states: null, resourceId: 'r1' }).isPersisted).toBe(false);
  });

  it('takes a numeric resource id', () => {
    expect(new EventPayload(undefined, { resourceId: 0 }).resourceId).toBe(0);
  });

  it.each([
    ['options that are not an object', 'ctx', 'payload options', 'states'],
    ['states that are not an array', { states: 's1' }, 'states', 's1'],
    ['metadata that is not an object', { metadata: 'm' }, 'metadata', 'm'],
  ])('rejects %s with an InvalidError', (_what, options, element, value) => {
    const bad = typeof options === 'string' ? value : options;
    let thrown: unknown;
    try {
      new EventPayload(undefined, bad as never);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InvalidError);
    expect(thrown).toMatchObject({ element });
  });
});

describe('DBEventPayload', () => {
  it('is an EventPayload with a desired state', () => {
    const desiredState = { name: 'r1' };
    const payload = new DBEventPayload(undefined, { desiredState });
    expect(payload).toBeInstanceOf(EventPayload);
    expect(payload.desiredState).toBe(desiredState);
  });

  it('is persisted when it has a resource id and states, not with only one of them', () => {
    expect(new DBEventPayload(undefined, { states: ['s1'], resourceId: 'id' }).isPersisted).toBe(true);
    expect(new DBEventPayload(undefined, { states: ['s1'], resourceId: 0 }).isPersisted).toBe(true);
    expect(new DBEventPayload(undefined, { states: ['s1'] }).isPersisted).toBe(false);
    expect(new DBEventPayload(undefined, { resourceId: 'id' }).isPersisted).toBe(false);
  });

  it('is to be committed when it has a desired state', () => {
    expect(new DBEventPayload(undefined, { desiredState: { name: 'r' } }).isToBeCommitted).toBe(true);
    expect(new DBEventPayload(undefined, { states: ['s'], resourceId: 'id' }).isToBeCommitted).toBe(false);
    expect(new DBEventPayload(undefined, { desiredState: null as never }).isToBeCommitted).toBe(false);
  });

  it('gives the desired state as the latest state, and the last state without one', () => {
    const desiredState = { v: 3 };
    const states = [{ v: 1 }, { v: 2 }];
    expect(new DBEventPayload(undefined, { states, desiredState }).latestState).toBe(desiredState);
    expect(new DBEventPayload(undefined, { states }).latestState).toBe(states[1]);
    expect(new DBEventPayload(undefined).latestState).toBeUndefined();
  });
});

describe('APIEventPayload', () => {
  it('carries the method name, action and collection name, with the common fields', () => {
    const payload = new APIEventPayload(
      { user: 'admin' },
      { methodName: 'create_router', action: 'create', collectionName: 'routers', states: ['s'] },
    );
    expect(payload).toBeInstanceOf(EventPayload);
    expect(payload.methodName).toBe('create_router');
    expect(payload.action).toBe('create');
    expect(payload.collectionName).toBe('routers');
    expect(payload.latestState).toBe('s');
  });

  it('leaves the collection name undefined when not given', () => {
    expect(new APIEventPayload(undefined, { methodName: 'm', action: 'a' }).collectionName).toBeUndefined();
  });

  it.each([
    ['a missing method name', { action: 'create' }, 'methodName'],
    ['an empty method name', { methodName: '', action: 'create' }, 'methodName'],
    ['a missing action', { methodName: 'create_router' }, 'action'],
    ['a non-string action', { methodName: 'create_router', action: 1 }, 'action'],
  ])('rejects %s with an InvalidError', (_what, options, element) => {
    expect(() => new APIEventPayload(undefined, options as never)).toThrow(
      expect.objectContaining({ name: 'InvalidError', element }),
    );
  });
});
