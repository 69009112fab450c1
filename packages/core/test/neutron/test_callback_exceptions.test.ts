/** neutron_lib/tests/unit/callbacks/test_callback_exceptions.py, ported to Herald. */
import { describe, expect, it } from '@jest/globals';
import { CallbackFailure, InvalidError, NotificationError } from '@herald/core';

describe('TestCallbackExceptions', () => {
  it('test_invalid', () => {
    // Herald's message adds what to do after the colon.
    const e = new InvalidError('bar', 'foo', 'pass a known bar.');
    expect(e.message).toBe('The value "foo" for bar is not valid: pass a known bar.');
    expect(() => {
      throw e;
    }).toThrow(InvalidError);
  });

  it('test_callback_failure', () => {
    // Neutron's CallbackFailure takes anything as `errors`; Herald's takes the failed callbacks'
    // records and names the resource and event.
    const e = new CallbackFailure('router', 'before_create', [new NotificationError('one', 'boom')]);
    expect(e.message).toBe('Callback one failed with "boom" (router before_create)');
  });

  it('test_callback_failure_with_list', () => {
    const errors = [1, 2, 3].map((n) => new NotificationError(`cb${n}`, n));
    const e = new CallbackFailure('router', 'before_create', errors);
    expect(e.message).toBe(
      'Callback cb1 failed with "1", Callback cb2 failed with "2", Callback cb3 failed with "3" (router before_create)',
    );
  });

  it('test_notification_error', () => {
    const error = new NotificationError('abc', 'boom');
    expect(String(error)).toBe('Callback abc failed with "boom"');
  });

  it('test_inner_exceptions', () => {
    // Neutron mixes bare exceptions and NotificationErrors in `errors`; Herald's are all records,
    // and innerErrors is what each callback threw.
    const keyErr = new Error('KeyError');
    const nKeyErr = new NotificationError('cb1', keyErr);
    const other = new NotificationError('cb2', 'other');
    const err = new CallbackFailure('port', 'before_delete', [nKeyErr, other]);
    expect(err.innerErrors).toEqual([keyErr, 'other']);
    expect(err.innerErrors[0]).toBe(nKeyErr.error);
  });
});
