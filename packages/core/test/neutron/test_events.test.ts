/** neutron_lib/tests/unit/callbacks/test_events.py (the payload classes), ported to Herald. */
import { describe, expect, it } from '@jest/globals';
import { APIEventPayload, DBEventPayload, EventPayload } from '@herald/core';

const ANY = { any: true };

describe('EventPayloadTestCase', () => {
  it('test_context', () => {
    expect(new EventPayload(ANY).context).toBe(ANY);
  });

  it('test_metadata', () => {
    const meta: Record<string, unknown> = { k1: 'v1', k2: ANY };
    const e = new EventPayload(ANY, { metadata: meta });
    expect(e.metadata).toEqual(meta);
    const eventMeta = e.metadata;
    eventMeta.k3 = 'v3';
    expect(e.metadata).toHaveProperty('k3');
  });

  it('test_request_body', () => {
    const e = new EventPayload<Record<string, string>>(ANY, { requestBody: { k: 'v' } });
    expect(e.requestBody).toEqual({ k: 'v' });
  });

  it('test_states', () => {
    const states = ['s1', 's2'];
    const e = new EventPayload(ANY, { states });
    expect(e.states).toEqual(['s1', 's2']);
    // The states are kept by reference, as in Neutron.
    states.push('state');
    expect(e.states).toContain('state');
  });

  it('test_resource_id', () => {
    expect(new EventPayload(ANY, { resourceId: 'id1' }).resourceId).toBe('id1');
  });

  it('test_has_no_states', () => {
    expect(new EventPayload(ANY).hasStates).toBe(false);
  });

  it('test_has_states', () => {
    expect(new EventPayload(ANY, { states: ['s1'] }).hasStates).toBe(true);
  });

  it('test_latest_state_with_states', () => {
    const body = {};
    const states = [{}, {}];
    const e = new EventPayload(ANY, { requestBody: body, states });
    expect(e.latestState).toBe(states[1]);
  });

  it('test_latest_state_without_states', () => {
    const e = new EventPayload(ANY, { requestBody: {} });
    expect(e.latestState).toBeUndefined();
  });
});

describe('DataStoreEventPayloadTestCase', () => {
  it('test_states', () => {
    expect(new DBEventPayload(ANY, { states: ['s1'] }).states).toEqual(['s1']);
  });

  it('test_desired_state', () => {
    const desiredState: Record<string, unknown> = { k: {} };
    const e = new DBEventPayload(ANY, { desiredState });
    expect(e.desiredState).toEqual(desiredState);
    desiredState.a = 'A';
    expect(e.desiredState).toEqual(desiredState);
  });

  it('test_is_not_persisted', () => {
    expect(new DBEventPayload(ANY, { states: ['s1'] }).isPersisted).toBe(false);
    expect(new DBEventPayload(ANY, { resourceId: '1a' }).isPersisted).toBe(false);
  });

  it('test_is_persisted', () => {
    expect(new DBEventPayload(ANY, { states: ['s1'], resourceId: '1a' }).isPersisted).toBe(true);
  });

  it('test_is_not_to_be_committed', () => {
    expect(new DBEventPayload(ANY, { states: ['s1'], resourceId: '1a' }).isToBeCommitted).toBe(false);
  });

  it('test_is_to_be_committed', () => {
    const e = new DBEventPayload<unknown>(ANY, { states: [ANY], resourceId: '1a', desiredState: {} });
    expect(e.isToBeCommitted).toBe(true);
  });

  it('test_latest_state_with_desired_state', () => {
    const desiredState = {};
    const e = new DBEventPayload(ANY, { states: [{}], desiredState });
    expect(e.latestState).toBe(desiredState);
  });
});

describe('APIEventPayloadTestCase', () => {
  // Neutron passes method_name and action positionally; Herald takes them as options.
  it('test_action', () => {
    expect(new APIEventPayload(ANY, { methodName: 'post.end', action: 'POST' }).action).toBe('POST');
  });

  it('test_method_name', () => {
    expect(new APIEventPayload(ANY, { methodName: 'post.end', action: 'POST' }).methodName).toBe('post.end');
  });
});
