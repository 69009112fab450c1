import '@herald/testing/jest';
import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  BEFORE_CREATE,
  BEFORE_DELETE,
  CallbackFailure,
  DBEventPayload,
  InvalidError,
  PORT,
  registry,
  ROUTER,
} from '@herald/core';
import { createTestRegistry, recordNotifications } from '@herald/testing';
import { useIsolatedRegistry } from '@herald/testing/jest';

/** The failure message of an assertion, without the colours Jest adds on a terminal. */
function failureOf(assertion: () => void): string {
  try {
    assertion();
  } catch (e) {
    // eslint-disable-next-line no-control-regex -- ANSI colour codes
    return (e as Error).message.replace(/\u001b\[\d+m/g, '');
  }
  throw new Error('the assertion passed');
}

async function createAndVeto() {
  const { registry: r } = createTestRegistry();
  const recorder = recordNotifications(r);
  r.subscribe(
    function refuse() {
      throw new Error('in use');
    },
    PORT,
    BEFORE_DELETE,
  );
  await r.notify(ROUTER, AFTER_CREATE, 'routers', new DBEventPayload(null, { resourceId: 'r1', states: [] }));
  await expect(r.notify(PORT, BEFORE_DELETE, 'ports', new DBEventPayload(null, { resourceId: 'p1' }))).rejects.toThrow(
    CallbackFailure,
  );
  return recorder;
}

describe('toHaveNotified', () => {
  it('passes for a recorded (resource, event), with or without a matching payload', async () => {
    const recorder = await createAndVeto();
    expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE);
    expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE, new DBEventPayload(null, { resourceId: 'r1', states: [] }));
    expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE, expect.objectContaining({ resourceId: 'r1' }));
    expect(recorder).not.toHaveNotified(ROUTER, BEFORE_CREATE);
    expect(recorder).not.toHaveNotified(ROUTER, AFTER_CREATE, expect.objectContaining({ resourceId: 'r2' }));
  });

  it('fails listing what was notified instead', async () => {
    const recorder = await createAndVeto();
    expect(failureOf(() => expect(recorder).toHaveNotified(ROUTER, BEFORE_CREATE))).toMatch(
      /Expected a notification of "router before_create"[\s\S]*Notified instead \(3\):\n {2}1\. router after_create by routers → \(no subscribers\) · ok\n {2}2\. port abort_delete/,
    );
  });

  it('fails with a diff when the event was notified with another payload', async () => {
    const recorder = await createAndVeto();
    const message = failureOf(() =>
      expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE, expect.objectContaining({ resourceId: 'r2' })),
    );
    expect(message).toContain('It was notified 1 time(s) with other payloads');
    expect(message).toMatch(/r2[\s\S]*r1/);
  });

  it('fails under .not naming the notification that happened', async () => {
    const recorder = await createAndVeto();
    expect(failureOf(() => expect(recorder).not.toHaveNotified(PORT, BEFORE_DELETE))).toMatch(
      /Expected no notification of "port before_delete", but it was notified 1 time\(s\):\n {2}port before_delete by ports → refuse#\d+ ✗ · vetoed: in use/,
    );
  });

  it('says so when nothing was notified', () => {
    const recorder = recordNotifications(createTestRegistry().registry);
    expect(failureOf(() => expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE))).toMatch(/Nothing was notified\./);
  });

  it('accepts an array of records, a recorded registry, or anything with a recorder', async () => {
    const recorder = await createAndVeto();
    expect(recorder.records).toHaveNotified(PORT, BEFORE_DELETE);
    expect(recorder.registry).toHaveNotified(PORT, BEFORE_DELETE);
    expect(recorder.registry).toHaveVetoed(PORT, BEFORE_DELETE);
    expect({ recorder }).toHaveNotified(PORT, BEFORE_DELETE);
    expect(recorder.registry).not.toHaveNotified(ROUTER, BEFORE_DELETE);
  });

  it('refuses a registry nothing records, and anything else, saying what to pass', async () => {
    const { registry: unrecorded } = createTestRegistry();
    expect(() => expect(unrecorded).toHaveNotified(PORT, BEFORE_DELETE)).toThrow(InvalidError);
    expect(() => expect(registry).toHaveNotified(PORT, BEFORE_DELETE)).toThrow(/recordNotifications\(registry\)/);
    const stopped = recordNotifications(unrecorded);
    stopped.stop();
    expect(() => expect(unrecorded).toHaveNotified(PORT, BEFORE_DELETE)).toThrow(/nothing records registry/);
    expect(() => expect('recorder').toHaveNotified(PORT, BEFORE_DELETE)).toThrow(InvalidError);
  });

  it('compares the contents of Maps and Sets in payloads, as toEqual does', async () => {
    const { registry: r } = createTestRegistry();
    const recorder = recordNotifications(r);
    const payload = (tags: string[], ports: [string, number][]) =>
      new DBEventPayload(null, { resourceId: 'r1', states: [{ tags: new Set(tags), ports: new Map(ports) }] });
    await r.notify(ROUTER, AFTER_CREATE, 'routers', payload(['a'], [['p1', 1]]));
    expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE, payload(['a'], [['p1', 1]]));
    expect(recorder).not.toHaveNotified(ROUTER, AFTER_CREATE, payload(['zzz'], [['p1', 1]]));
    expect(recorder).not.toHaveNotified(ROUTER, AFTER_CREATE, payload(['a'], [['p9', 9]]));
  });
});

describe('toHaveVetoed', () => {
  it('passes for a vetoed notification and fails for one that went through or never happened', async () => {
    const recorder = await createAndVeto();
    expect(recorder).toHaveVetoed(PORT, BEFORE_DELETE);
    expect(recorder).not.toHaveVetoed(ROUTER, AFTER_CREATE);
    expect(failureOf(() => expect(recorder).toHaveVetoed(ROUTER, AFTER_CREATE))).toMatch(
      /to be vetoed, but its 1 notification\(s\) went through/,
    );
    expect(failureOf(() => expect(recorder).toHaveVetoed(ROUTER, BEFORE_CREATE))).toMatch(/but it was never notified/);
    expect(failureOf(() => expect(recorder).not.toHaveVetoed(PORT, BEFORE_DELETE))).toMatch(
      /not to be vetoed, but it was/,
    );
  });

  it('does not count the abort round as a veto', async () => {
    const recorder = await createAndVeto();
    expect(recorder).toHaveNotified(PORT, 'abort_delete');
    expect(recorder).not.toHaveVetoed(PORT, 'abort_delete');
  });
});

describe('useIsolatedRegistry', () => {
  const herald = useIsolatedRegistry({ name: 'per-test' });

  it('gives the test its own default registry and a recorder of it', async () => {
    expect(registry).toBe(herald.registry);
    expect(registry.name).toBe('per-test');
    registry.subscribe(() => undefined, ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(herald.recorder).toHaveNotified(ROUTER, AFTER_CREATE);
  });

  it('starts the next test clean', () => {
    expect(herald.registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
    expect(herald.recorder.records).toEqual([]);
    expect(herald.logger.lines).toEqual([]);
  });
});

describe('useIsolatedRegistry outside a test', () => {
  const herald = useIsolatedRegistry();
  let error: unknown;
  try {
    void herald.registry;
  } catch (e) {
    error = e;
  }

  it('refuses to hand out a registry while tests are being collected', () => {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('HeraldError');
    expect((error as Error).message).toMatch(/read them inside a test/);
  });
});
