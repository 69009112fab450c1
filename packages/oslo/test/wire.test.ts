import { describe, expect, it } from '@jest/globals';
import { InvalidError } from '@herald/core';
import { NoSuchMethod, RemoteError, UnsupportedVersion } from '@herald/messaging';
import {
  amqpUrlOf,
  errorOfFailure,
  failureFor,
  fromOsloMessage,
  fromPythonTimestamp,
  OsloRemoteError,
  OsloTopology,
  toOsloMessage,
  toPythonTimestamp,
  unwrapEnvelope,
  wrapEnvelope,
} from '@herald/oslo';

describe('the oslo envelope', () => {
  it('wraps a message as a JSON string under oslo.message, version 2.0, and unwraps it', () => {
    const envelope = wrapEnvelope({ method: 'ping', args: { n: 1 } });
    expect(envelope).toEqual({ 'oslo.version': '2.0', 'oslo.message': '{"method":"ping","args":{"n":1}}' });
    expect(unwrapEnvelope(JSON.parse(JSON.stringify(envelope)))).toEqual({ method: 'ping', args: { n: 1 } });
  });

  it('reads a message without an envelope as it is, as oslo does', () => {
    expect(unwrapEnvelope({ event_type: 'e' })).toEqual({ event_type: 'e' });
  });

  it('refuses another envelope version, and an envelope that holds no object', () => {
    expect(() => unwrapEnvelope({ 'oslo.version': '3.0', 'oslo.message': '{}' })).toThrow(InvalidError);
    expect(() => unwrapEnvelope({ 'oslo.version': '2.0', 'oslo.message': '[1]' })).toThrow(/JSON object/);
    expect(() => unwrapEnvelope('text')).toThrow(InvalidError);
  });
});

describe('Herald bodies as oslo messages', () => {
  it('spreads the context into _context_ keys and adds the call keys, and gathers them back', () => {
    const wire = toOsloMessage(
      { method: 'sync', args: {}, version: '1.1', context: { request_id: 'req-1', roles: ['admin'] } },
      { uniqueId: 'u1', call: { msgId: 'm1', replyQueue: 'reply_x' } },
    );
    expect(wire).toEqual({
      method: 'sync',
      args: {},
      version: '1.1',
      _context_request_id: 'req-1',
      _context_roles: ['admin'],
      _msg_id: 'm1',
      _reply_q: 'reply_x',
      _timeout: null,
      _unique_id: 'u1',
    });
    expect(fromOsloMessage(wire)).toEqual({
      body: { method: 'sync', args: {}, version: '1.1', context: { request_id: 'req-1', roles: ['admin'] } },
      uniqueId: 'u1',
      msgId: 'm1',
      replyQueue: 'reply_x',
    });
  });

  it("writes a notification's timestamp as Python does, and reads Python's as ISO 8601", () => {
    const notification = {
      message_id: 'm',
      publisher_id: 'p',
      event_type: 'e',
      priority: 'INFO',
      payload: {},
      timestamp: '2026-12-07T03:45:00.120Z',
      context: {},
    };
    expect(toOsloMessage(notification, { uniqueId: 'u' }).timestamp).toBe('2026-12-07 03:45:00.120000');
    expect(toPythonTimestamp('2026-12-07T03:45:00.000Z')).toBe('2026-12-07 03:45:00');
    expect(fromPythonTimestamp('2026-12-07 03:45:00.123456')).toBe('2026-12-07T03:45:00.123Z');
    expect(fromPythonTimestamp('2026-12-07 03:45:00')).toBe('2026-12-07T03:45:00.000Z');
    expect(fromPythonTimestamp('yesterday')).toBe('yesterday');
  });

  it('refuses a body that is not an object, and a context that is not one', () => {
    expect(() => toOsloMessage([1], { uniqueId: 'u' })).toThrow(InvalidError);
    expect(() => toOsloMessage({ method: 'm', context: 'ctx' }, { uniqueId: 'u' })).toThrow(/context/);
  });
});

describe('RPC failures', () => {
  it("writes a Herald error as oslo's failure: class, module 'herald', message, traceback", () => {
    class RouterNotFound extends Error {}
    const failure = failureFor(new RouterNotFound('no router r9'));
    expect(failure).toMatchObject({ class: 'RouterNotFound', module: 'herald', message: 'no router r9', kwargs: {} });
    expect(failure.tb.join('\n')).toContain('RouterNotFound');
  });

  it("writes Herald's NoSuchMethod and UnsupportedVersion as oslo's dispatcher writes its own", () => {
    expect(failureFor(new NoSuchMethod('nope'))).toMatchObject({
      class: 'NoSuchMethod',
      module: 'oslo_messaging.rpc.dispatcher',
      message: 'Endpoint does not support RPC method nope',
    });
    expect(failureFor(new UnsupportedVersion('2.0', 'sync', undefined))).toMatchObject({
      class: 'UnsupportedVersion',
      message: 'Endpoint does not support RPC version 2.0. Attempted method: sync',
    });
  });

  it('reads a failure as an OsloRemoteError, and writes it back unchanged when a handler throws it on', () => {
    const python = {
      class: 'NetworkNotFound',
      module: 'neutron_lib.exceptions',
      message: 'Network n1 could not be found.',
      tb: ['Traceback (most recent call last):\n'],
      args: [],
      kwargs: { net_id: 'n1' },
    };
    const error = errorOfFailure(JSON.stringify(python));
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ remoteName: 'NetworkNotFound', remoteModule: 'neutron_lib.exceptions' });
    expect(failureFor(error)).toEqual(python);
  });

  it('still gives a RemoteError for a failure it cannot read', () => {
    const error = errorOfFailure('not json');
    expect(error).toBeInstanceOf(OsloRemoteError);
    expect(error).toMatchObject({ remoteName: 'RemoteError', remoteMessage: 'not json' });
  });
});

describe('the oslo topology', () => {
  it("declares oslo's defaults: non-durable topic queues, expiring fanout and reply queues", () => {
    const topology = new OsloTopology();
    expect(topology.controlExchangeDeclaration()).toEqual({
      name: 'openstack',
      type: 'topic',
      durable: false,
      autoDelete: false,
    });
    expect(topology.topicQueue('dhcp_agent.host-1')).toEqual({
      name: 'dhcp_agent.host-1',
      durable: false,
      autoDelete: false,
      arguments: {},
    });
    expect(topology.fanoutQueue('dhcp_agent')).toMatchObject({
      name: expect.stringMatching(/^dhcp_agent_fanout_[0-9a-f]{32}$/),
      arguments: { 'x-expires': 1_800_000 },
    });
    expect(topology.replyQueue().name).toMatch(/^reply_[0-9a-f]{32}$/);
  });

  it('makes topic queues durable quorum queues with rabbit_quorum_queue, but never the transient ones', () => {
    const topology = new OsloTopology({ controlExchange: 'neutron', quorumQueues: true, quorumDeliveryLimit: 3 });
    expect(topology.topicQueue('q-plugin')).toMatchObject({
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 3 },
    });
    expect(topology.replyQueue().arguments).toEqual({ 'x-expires': 1_800_000 });
  });

  it('refuses HA and quorum queues together, as oslo does, and settings of the wrong type', () => {
    expect(() => new OsloTopology({ haQueues: true, quorumQueues: true })).toThrow(InvalidError);
    expect(() => new OsloTopology({ durableQueues: 'yes' as unknown as boolean })).toThrow(/durableQueues/);
    expect(new OsloTopology({ haQueues: true }).topicQueue('t').arguments).toEqual({ 'x-ha-policy': 'all' });
  });

  it("takes oslo's rabbit:// URLs", () => {
    expect(amqpUrlOf('rabbit://guest:guest@127.0.0.1:5672/neutron')).toBe('amqp://guest:guest@127.0.0.1:5672/neutron');
    expect(() => amqpUrlOf('rabbit://a:b@h1:5672,a:b@h2:5672/')).toThrow(InvalidError);
  });
});
