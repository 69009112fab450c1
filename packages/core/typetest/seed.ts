/**
 * The shape of the seed program (Neutron's callbacks devref example) compiles against Herald with
 * only the imports changed and the payload first (examples/seed runs it).
 */
import { CallbackFailure, EventPayload, events, registry, resources, type Notification } from '@herald/core';

export async function seed(print: (line: string) => void): Promise<void> {
  function callback1(): void {
    throw new Error('I am failing!');
  }

  function callback2(_payload: EventPayload | undefined, { trigger, event }: Notification): void {
    print(`Callback2 called by ${String(trigger)} on event  ${event}`);
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
  } catch (e) {
    if (!(e instanceof CallbackFailure)) throw e;
    print(`Error:  ${e.message}`);
  }
}
