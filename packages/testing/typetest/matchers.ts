// What the matcher declarations accept and refuse (checked by tsc, never run).
import '@herald/testing/jest';
import { expect } from '@jest/globals';
import { AFTER_CREATE, DBEventPayload, PORT, ROUTER } from '@herald/core';
import { recordNotifications } from '@herald/testing';

const recorder = recordNotifications();
expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE);
expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE, new DBEventPayload(null));
expect(recorder).toHaveNotified(PORT, 'before_delete', expect.objectContaining({ resourceId: 'p1' }));
expect(recorder).not.toHaveVetoed(PORT, 'before_delete');
// @ts-expect-error an event that is not declared for the resource
expect(recorder).toHaveNotified(ROUTER, 'exploded');
// @ts-expect-error an unknown resource
expect(recorder).toHaveVetoed('gadget', 'before_delete');
// @ts-expect-error a payload that is not a payload nor an asymmetric matcher
expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE, { resourceId: 'r1' });
