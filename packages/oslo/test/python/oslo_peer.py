"""The Python side of @herald/oslo's tests: oslo.messaging itself, driven over stdin/stdout.

One process serves a whole scenario group (importing oslo.messaging is the slow part). It reads
one JSON command per line from stdin, `{"id": 1, "op": "call", ...}`, and writes one JSON line per
answer, `{"id": 1, "ok": true, "result": ...}` or `{"id": 1, "ok": false, "error": {...}}`, and
one per event its servers and listeners see, `{"event": "cast", ...}`. Each command runs in its
own thread, so that a call waiting for Herald does not stop the others.

Usage: python3 oslo_peer.py <transport_url> <control_exchange>
"""

import json
import sys
import threading
import time
import uuid

import kombu
import oslo_messaging
from oslo_config import cfg

URL, EXCHANGE = sys.argv[1], sys.argv[2]
oslo_messaging.set_transport_defaults(control_exchange=EXCHANGE)
# The global CONF: oslo.messaging registers some of its options (metrics) only there.
CONF = cfg.CONF
CONF([], project='herald-oslo-test')
RPC_TRANSPORT = oslo_messaging.get_rpc_transport(CONF, url=URL)
NOTIFICATION_TRANSPORT = oslo_messaging.get_notification_transport(CONF, url=URL)
PRIORITIES = ('audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample')

_out = threading.Lock()
_running = []


def emit(line):
    with _out:
        sys.stdout.write(json.dumps(line, default=str) + '\n')
        sys.stdout.flush()


class PeerFailure(Exception):
    """What `fail` raises: a Python exception a Herald caller reads."""


class RpcEndpoint(object):
    """Methods a Herald RpcClient calls and casts; each call and cast is reported as an event."""

    def __init__(self, name, namespace, version):
        self.name = name
        self.target = oslo_messaging.Target(namespace=namespace, version=version)

    def _report(self, kind, ctxt, method, args):
        emit({'event': 'rpc', 'server': self.name, 'method': method, 'ctxt': ctxt, 'args': args})

    def echo(self, ctxt, **kwargs):
        self._report('call', ctxt, 'echo', kwargs)
        return {'ctxt': ctxt, 'args': kwargs, 'server': self.name}

    def fail(self, ctxt, message):
        self._report('call', ctxt, 'fail', {'message': message})
        raise PeerFailure(message)

    def slow(self, ctxt, seconds):
        time.sleep(seconds)
        return seconds


class RecordingEndpoint(object):
    """Takes any public method, as a real agent's endpoint would, and reports each call and cast."""

    def __init__(self, name, namespace, version):
        self.name = name
        self.target = oslo_messaging.Target(namespace=namespace, version=version)

    def __getattr__(self, method):
        if method.startswith('_'):
            raise AttributeError(method)

        def record(ctxt, **kwargs):
            emit({'event': 'rpc', 'server': self.name, 'method': method, 'ctxt': ctxt, 'args': kwargs})
        return record


class NotificationEndpoint(object):
    """Takes every priority and reports each notification as an event."""

    def __init__(self, name):
        self.name = name
        for priority in PRIORITIES:
            setattr(self, priority, self._taker(priority))

    def _taker(self, priority):
        def take(ctxt, publisher_id, event_type, payload, metadata):
            emit({'event': 'notification', 'listener': self.name, 'priority': priority,
                  'ctxt': ctxt, 'publisher_id': publisher_id, 'event_type': event_type,
                  'payload': payload, 'metadata': metadata})
        return take


def target_of(command):
    return oslo_messaging.Target(topic=command['topic'], server=command.get('server'),
                                 fanout=command.get('fanout', False),
                                 namespace=command.get('namespace'), version=command.get('version'))


def rpc_server(command):
    kind = RecordingEndpoint if command.get('record_all') else RpcEndpoint
    endpoints = [kind(command['server'], e.get('namespace'), e.get('version', '1.0'))
                 for e in command['endpoints']]
    target = oslo_messaging.Target(topic=command['topic'], server=command['server'])
    server = oslo_messaging.get_rpc_server(RPC_TRANSPORT, target, endpoints, executor='threading',
                                           access_policy=oslo_messaging.DefaultRPCAccessPolicy)
    server.start()
    _running.append(server)


def client_of(command):
    return oslo_messaging.get_rpc_client(RPC_TRANSPORT, target_of(command),
                                         timeout=command.get('timeout', 10),
                                         version_cap=command.get('version_cap'))


def call(command):
    return client_of(command).call(command.get('ctxt', {}), command['method'], **command.get('args', {}))


def cast(command):
    client_of(command).cast(command.get('ctxt', {}), command['method'], **command.get('args', {}))


def notify(command):
    notifier = oslo_messaging.Notifier(NOTIFICATION_TRANSPORT, publisher_id=command['publisher_id'],
                                       driver='messagingv2', topics=command.get('topics', ['notifications']))
    getattr(notifier, command['priority'])(command.get('ctxt', {}), command['event_type'], command['payload'])


def listen(command):
    targets = [oslo_messaging.Target(topic=topic) for topic in command.get('topics', ['notifications'])]
    listener = oslo_messaging.get_notification_listener(
        NOTIFICATION_TRANSPORT, targets, [NotificationEndpoint(command['name'])],
        executor='threading', pool=command.get('pool'))
    listener.start()
    _running.append(listener)


def publish_twice(command):
    """Publishes one notification twice with the same _unique_id, as a redelivery would."""
    message = dict(command['message'])
    message['_unique_id'] = uuid.uuid4().hex
    envelope = {'oslo.version': '2.0', 'oslo.message': json.dumps(message)}
    with kombu.Connection(URL.replace('rabbit://', 'amqp://')) as connection:
        exchange = kombu.Exchange(EXCHANGE, type='topic', durable=False, auto_delete=False)
        producer = connection.Producer()
        for _ in range(2):
            producer.publish(envelope, exchange=exchange, routing_key=command['routing_key'], declare=[exchange])
    return message['_unique_id']


def describe(error):
    described = {'type': type(error).__name__, 'message': str(error)}
    if isinstance(error, oslo_messaging.RemoteError):
        described.update(exc_type=error.exc_type, value=error.value)
    return described


OPERATIONS = {'rpc_server': rpc_server, 'call': call, 'cast': cast, 'notify': notify, 'listen': listen,
              'publish_twice': publish_twice}


def run(command):
    try:
        emit({'id': command['id'], 'ok': True, 'result': OPERATIONS[command['op']](command)})
    except Exception as error:  # noqa: B902 - every failure is an answer for the test
        emit({'id': command['id'], 'ok': False, 'error': describe(error)})


def stop_all():
    for running in _running:
        running.stop()
    for running in _running:
        running.wait()


def main():
    emit({'event': 'ready'})
    for line in sys.stdin:
        command = json.loads(line)
        if command['op'] == 'stop':
            stop_all()
            emit({'id': command['id'], 'ok': True, 'result': None})
            break
        threading.Thread(target=run, args=(command,), daemon=True).start()
    RPC_TRANSPORT.cleanup()
    NOTIFICATION_TRANSPORT.cleanup()


main()
