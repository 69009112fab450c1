import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CallbackRegistry, setDefaultRegistry } from '@herald/core';
import { runSeed } from '../src/seed.js';

describe('the seed program', () => {
  let restore: () => void;
  beforeEach(() => {
    restore = setDefaultRegistry(new CallbackRegistry({ logger: { error: () => undefined } }));
  });
  afterEach(() => restore());

  it('prints what the Neutron devref program prints, abort round included', async () => {
    const lines: string[] = [];
    await runSeed((line) => lines.push(line));
    expect(lines).toEqual([
      'Subscribed',
      'Notifying...',
      'Callback2 called by [AsyncFunction: doNotify] on event  before_create',
      'Callback2 called by [AsyncFunction: doNotify] on event  abort_create',
      'Error:  Callback callback1#1 failed with "I am failing!" (router before_create)',
    ]);
  });
});
