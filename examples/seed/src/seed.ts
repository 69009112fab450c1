/**
 * The callback1 / callback2 program of Neutron's callbacks devref (the project's first seed
 * document), written with Herald. Only the imports changed, and callbacks take the payload first.
 */
import { inspect } from 'node:util';
import { CallbackFailure, EventPayload, events, registry, resources, type Notification } from '@herald/core';

/** Runs the seed program, writing each line it prints to `print`. */
export async function runSeed(print: (line: string) => void = console.log): Promise<void> {
  function callback1(): void {
    throw new Error('I am failing!');
  }

  function callback2(_payload: EventPayload | undefined, { trigger, event }: Notification): void {
    print(`Callback2 called by ${inspect(trigger)} on event  ${event}`);
  }

  registry.subscribe(callback1, resources.ROUTER, events.BEFORE_CREATE);
  registry.subscribe(callback2, resources.ROUTER, events.BEFORE_CREATE);
  registry.subscribe(callback2, resources.ROUTER, events.ABORT_CREATE);
  print('Subscribed');

  async function doNotify(): Promise<void> {
    const kwargs = { foo: 'bar' };
    await registry.notify(
      resources.ROUTER,
      events.BEFORE_CREATE,
      doNotify,
      new EventPayload(undefined, { metadata: kwargs }),
    );
  }

  print('Notifying...');
  try {
    await doNotify();
  } catch (e: unknown) {
    if (!(e instanceof CallbackFailure)) throw e;
    print(`Error:  ${e.message}`);
  }
}
