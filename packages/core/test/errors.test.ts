import { describe, expect, it } from '@jest/globals';
import { CallbackFailure, HeraldError, InvalidError, NotificationError, RetryRequest } from '@herald/core';

describe('HeraldError', () => {
  it('is an Error whose name is the concrete class', () => {
    class Custom extends HeraldError {}
    const error = new Custom('boom');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('Custom');
    expect(error.message).toBe('boom');
  });

  it('is the base class of every error Herald throws', () => {
    const failure = new CallbackFailure('router', 'before_create', []);
    for (const error of [new InvalidError('e', 1, 'hint'), failure, new RetryRequest(failure)]) {
      expect(error).toBeInstanceOf(HeraldError);
      expect(error.name).toBe(error.constructor.name);
    }
  });
});

describe('InvalidError', () => {
  it('keeps the offending value and the element, and names both in its message with a hint', () => {
    const value = { not: 'a function' };
    const error = new InvalidError('callback', value, 'pass a function.');
    expect(error.element).toBe('callback');
    expect(error.value).toBe(value);
    expect(error.message).toBe('The value a plain object for callback is not valid: pass a function.');
  });

  it.each([
    ['foo', '"foo"'],
    [42, '42'],
    [null, 'null'],
    [undefined, 'undefined'],
    [[1, 2], 'an array of 2'],
    [new Map(), 'an instance of Map'],
    [function named() {}, 'function named'],
  ])('describes %p as %s', (value, text) => {
    expect(new InvalidError('bar', value, 'hint').message).toBe(`The value ${text} for bar is not valid: hint`);
  });
});

describe('NotificationError', () => {
  it('is a record, not an Error: callbackId, error and cancellable', () => {
    const cause = new Error('boom');
    const record = new NotificationError('L3Service.preventPortDelete#3', cause, true);
    expect(record).not.toBeInstanceOf(Error);
    expect(record.callbackId).toBe('L3Service.preventPortDelete#3');
    expect(record.error).toBe(cause);
    expect(record.cancellable).toBe(true);
    expect(new NotificationError('id', cause).cancellable).toBe(false);
  });

  it('reads as "Callback <id> failed with "<error>""', () => {
    expect(String(new NotificationError('abc', new Error('boom')))).toBe('Callback abc failed with "boom"');
    expect(String(new NotificationError('abc', 'boom'))).toBe('Callback abc failed with "boom"');
  });
});

describe('CallbackFailure', () => {
  const first = new NotificationError('a#1', new Error('first'));
  const second = new NotificationError('b#2', 'second', true);

  it('keeps the resource, the event and the errors in call order', () => {
    const failure = new CallbackFailure('port', 'before_delete', [first, second]);
    expect(failure.resource).toBe('port');
    expect(failure.event).toBe('before_delete');
    expect(failure.errors).toEqual([first, second]);
    expect(failure.innerErrors).toEqual([first.error, 'second']);
  });

  it('keeps its errors frozen, apart from the array it was given', () => {
    const given = [first];
    const failure = new CallbackFailure('port', 'before_delete', given);
    given.push(second);
    expect(failure.errors).toEqual([first]);
    expect(Object.isFrozen(failure.errors)).toBe(true);
    expect(() => (failure.errors as NotificationError[]).push(second)).toThrow(TypeError);
  });

  it('lists each failed callback id and its error in its message', () => {
    const failure = new CallbackFailure('port', 'before_delete', [first, second]);
    expect(failure.message).toBe(
      'Callback a#1 failed with "first", Callback b#2 failed with "second" (port before_delete)',
    );
  });
});

describe('RetryRequest', () => {
  it('is not a CallbackFailure; its cause is the failure', () => {
    const failure = new CallbackFailure('port', 'precommit_create', [new NotificationError('a#1', 'deadlock')]);
    const retry = new RetryRequest(failure);
    expect(retry).not.toBeInstanceOf(CallbackFailure);
    expect(retry.cause).toBe(failure);
    expect(retry.message).toContain(failure.message);
  });
});
