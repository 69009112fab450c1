import { describe } from '@jest/globals';

/** The broker the tests use (set by the global setup), or `undefined` when there is none. */
export const brokerUrl: string | undefined = process.env.HERALD_AMQP_URL;

/** `describe` when a broker is known, else `describe.skip`. */
export const describeWithBroker = brokerUrl === undefined ? describe.skip : describe;
