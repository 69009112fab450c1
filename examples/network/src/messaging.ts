/**
 * Where the example's processes meet: the transport they share (an `InMemoryTransport` from
 * `@herald/messaging`; a broker transport with the same contract can take its place), and the
 * names they go by on it.
 * @module
 */

import type { Transport } from '@herald/messaging';
import type { ServiceIdentifier } from 'inversify';

/** The service identifier of the transport the network server sends on. */
export const TRANSPORT: ServiceIdentifier<Transport> = Symbol.for('herald.example.Transport');

/** The host the network server (the API, the trigger services, the plugins) runs on. */
export const SERVER_HOST = 'controller';

/** Who sends the API's notifications (oslo's `publisher_id`, `service.host`). */
export const PUBLISHER_ID = `network.${SERVER_HOST}`;

/** The network server's name on the registry bridge (the CloudEvents `source`). */
export const SERVER_SOURCE = `network@${SERVER_HOST}`;

/** The version of the agents' RPC API that the server sends and the agents implement. */
export const AGENT_RPC_VERSION = '1.0';
