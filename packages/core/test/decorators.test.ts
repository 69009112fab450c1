import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_UPDATE,
  BEFORE_DELETE,
  CallbackRegistry,
  InvalidError,
  NETWORK,
  OnResource,
  PORT,
  PRIORITY_DEFAULT,
  ROUTER,
  decoratedClasses,
  handlersOf,
  subscribeInstance,
} from '@herald/core';

class L3Service {
  readonly seen: string[] = [];

  @OnResource(PORT, BEFORE_DELETE, { priority: 10, cancellable: true })
  preventPortDelete(): void {
    this.seen.push(`${this.constructor.name}.preventPortDelete`);
  }

  @OnResource(ROUTER, [AFTER_CREATE, AFTER_UPDATE])
  @OnResource(NETWORK, AFTER_DELETE)
  routersUpdated(): void {
    this.seen.push(`${this.constructor.name}.routersUpdated`);
  }

  undecorated(): void {}
}

class DvrService extends L3Service {
  @OnResource(ROUTER, AFTER_DELETE, { priority: 20 })
  routerDeleted(): void {
    this.seen.push(`${this.constructor.name}.routerDeleted`);
  }
}

class QuietL3Service extends L3Service {
  override preventPortDelete(): void {}
}

/** handlersOf as comparable `method resource.event` strings. */
function describeHandlers(target: object): string[] {
  return handlersOf(target).map((h) => `${String(h.method)} ${h.resource}.${h.event}`);
}

describe('@OnResource and handlersOf', () => {
  it('lists one { method, resource, event, priority, cancellable } per (method, event)', () => {
    expect(handlersOf(L3Service)).toEqual(
      expect.arrayContaining([
        { method: 'preventPortDelete', resource: PORT, event: BEFORE_DELETE, priority: 10, cancellable: true },
        {
          method: 'routersUpdated',
          resource: ROUTER,
          event: AFTER_CREATE,
          priority: PRIORITY_DEFAULT,
          cancellable: false,
        },
        {
          method: 'routersUpdated',
          resource: ROUTER,
          event: AFTER_UPDATE,
          priority: PRIORITY_DEFAULT,
          cancellable: false,
        },
        {
          method: 'routersUpdated',
          resource: NETWORK,
          event: AFTER_DELETE,
          priority: PRIORITY_DEFAULT,
          cancellable: false,
        },
      ]),
    );
    expect(handlersOf(L3Service)).toHaveLength(4);
  });

  it('gives the same answer for a class and for its instances', () => {
    expect(handlersOf(L3Service).length).toBeGreaterThan(0);
    expect(handlersOf(new L3Service())).toEqual(handlersOf(L3Service));
  });

  it('returns a fresh array each time', () => {
    const list = handlersOf(L3Service);
    list.pop();
    expect(handlersOf(L3Service)).toHaveLength(4);
  });

  it('lists nothing for a class without decorated methods', () => {
    class Plain {
      method(): void {}
    }
    expect(handlersOf(Plain)).toEqual([]);
    expect(handlersOf({})).toEqual([]);
    expect(handlersOf(Object.create(null) as object)).toEqual([]);
  });

  it('includes the decorated methods inherited from parent classes', () => {
    expect(describeHandlers(DvrService).sort()).toEqual(
      [
        'routerDeleted router.after_delete',
        'preventPortDelete port.before_delete',
        'routersUpdated router.after_create',
        'routersUpdated router.after_update',
        'routersUpdated network.after_delete',
      ].sort(),
    );
  });

  it('drops a handler whose method a subclass overrides without the decorator', () => {
    expect(describeHandlers(QuietL3Service)).not.toContain('preventPortDelete port.before_delete');
    expect(describeHandlers(QuietL3Service)).toContain('routersUpdated router.after_create');
    expect(describeHandlers(L3Service)).toContain('preventPortDelete port.before_delete');
  });

  it('uses the subclass decorator when a subclass overrides and decorates again', () => {
    class Rerouted extends L3Service {
      @OnResource(ROUTER, AFTER_DELETE)
      override preventPortDelete(): void {}
    }
    expect(describeHandlers(Rerouted).filter((h) => h.startsWith('preventPortDelete'))).toEqual([
      'preventPortDelete router.after_delete',
    ]);
  });

  it('registers the same (resource, event) declared twice on one method once, with the last options', () => {
    class Twice {
      @OnResource(PORT, AFTER_CREATE, { priority: 1 })
      @OnResource(PORT, [AFTER_CREATE, AFTER_CREATE], { priority: 2 })
      created(): void {}
    }
    expect(handlersOf(Twice)).toHaveLength(1);
    const [handler] = handlersOf(Twice);
    // Decorators apply bottom-up: the one written first is applied last.
    expect(handler!.priority).toBe(1);
  });

  it('takes a single event as one event, not a list of characters', () => {
    // Neutron asserts that `events` is a list; Herald takes one event or a list.
    class Single {
      @OnResource(PORT, AFTER_CREATE)
      created(): void {}
    }
    expect(describeHandlers(Single)).toEqual(['created port.after_create']);
  });

  it('records symbol-named methods', () => {
    const key = Symbol('onCreate');
    class WithSymbol {
      @OnResource(PORT, AFTER_CREATE)
      [key](): void {}
    }
    expect(handlersOf(WithSymbol)).toMatchObject([{ method: key }]);
  });

  it('lists the classes that declare decorated methods of their own', () => {
    expect(decoratedClasses()).toEqual(expect.arrayContaining([L3Service, DvrService]));
    expect(decoratedClasses()).not.toContain(QuietL3Service);
  });
});

describe('@OnResource on something that is not an instance method', () => {
  /** Runs `declare`, which defines a class; returns the InvalidError it threw. */
  function decorationError(declare: () => unknown): InvalidError {
    try {
      declare();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidError);
      return error as InvalidError;
    }
    throw new Error('the decorator did not throw');
  }

  it('throws at decoration time on a property, naming the class and member', () => {
    const error = decorationError(() => {
      class Service {
        // @ts-expect-error a property cannot be decorated with @OnResource
        @OnResource(PORT, AFTER_CREATE)
        handler = () => undefined;
      }
      return Service;
    });
    expect(error.message).toContain('Service.prototype.handler');
  });

  it('throws at decoration time on an accessor, naming the class and member', () => {
    const error = decorationError(() => {
      class Service {
        @OnResource(PORT, AFTER_CREATE)
        get handler() {
          return () => undefined;
        }
      }
      return Service;
    });
    expect(error.message).toContain('Service.prototype.handler');
  });

  it('throws at decoration time on a static method, naming the class and member', () => {
    const error = decorationError(() => {
      class Service {
        // @ts-expect-error a static method does not compile either (InstancePrototype)
        @OnResource(PORT, AFTER_CREATE)
        static handler(): void {}
      }
      return Service;
    });
    expect(error.message).toContain('Service.handler');
    expect(error.message).toMatch(/static/);
  });

  it('throws at decoration time on a class, naming the class', () => {
    const error = decorationError(() => {
      // @ts-expect-error @OnResource decorates methods, not classes
      @OnResource(PORT, AFTER_CREATE)
      class Service {}
      return Service;
    });
    expect(error.message).toContain('(@OnResource on Service)');
    expect(error.message).toMatch(/not a class/);
  });

  /** `OnResource` without its types, to pass what they would refuse. */
  const onResource = OnResource as unknown as (
    resource: unknown,
    event: unknown,
    options?: unknown,
  ) => (target: object, member: string, descriptor: PropertyDescriptor) => void;

  it.each([
    ['an empty resource', ['', AFTER_CREATE], 'resource'],
    ['an empty event list', [PORT, []], 'event'],
    ['an empty event', [PORT, ''], 'event'],
    ['an event list with a non-string', [PORT, [AFTER_CREATE, 3]], 'event'],
    ['a NaN priority', [PORT, AFTER_CREATE, { priority: NaN }], 'priority'],
    ['a non-boolean cancellable', [PORT, AFTER_CREATE, { cancellable: 'yes' }], 'cancellable'],
    ['options that are not an object', [PORT, AFTER_CREATE, 20], 'options'],
  ])('throws for %s, naming the class and method', (_what, [resource, event, options], element) => {
    const error = decorationError(() => {
      class Service {
        handler(): void {}
      }
      const descriptor = Object.getOwnPropertyDescriptor(Service.prototype, 'handler')!;
      onResource(resource, event, options)(Service.prototype, 'handler', descriptor);
    });
    expect(error.element).toBe(element);
    expect(error.message).toContain('Service.prototype.handler');
  });
});

describe('subscribeInstance', () => {
  it('subscribes every decorated method with the instance as owner and this', async () => {
    const registry = new CallbackRegistry();
    const l3 = new DvrService();
    subscribeInstance(registry, l3);
    expect(registry.subscriptions()).toHaveLength(5);
    expect(registry.subscriptions().every((s) => s.owner === l3)).toBe(true);
    expect(registry.subscriptions().find((s) => s.event === BEFORE_DELETE)).toMatchObject({
      priority: 10,
      cancellable: true,
    });
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    await registry.notify(ROUTER, AFTER_DELETE, 'test');
    registry.notifySync(PORT, BEFORE_DELETE, 'test');
    expect(l3.seen).toEqual(['DvrService.routersUpdated', 'DvrService.routerDeleted', 'DvrService.preventPortDelete']);
  });

  it('derives subscription ids from the class and method names', () => {
    const registry = new CallbackRegistry();
    const handlers = subscribeInstance(registry, new L3Service());
    expect(handlers.subscriptions.map((s) => s.id)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^L3Service\.preventPortDelete#\d+$/)]),
    );
  });

  it('makes two instances two subscribers', async () => {
    const registry = new CallbackRegistry();
    const [a, b] = [new L3Service(), new L3Service()];
    subscribeInstance(registry, a);
    subscribeInstance(registry, b);
    expect(registry.subscriptions()).toHaveLength(8);
    await registry.notify(NETWORK, AFTER_DELETE, 'test');
    expect([a.seen, b.seen]).toEqual([['L3Service.routersUpdated'], ['L3Service.routersUpdated']]);
  });

  it('subscribes the same instance twice only once', async () => {
    const registry = new CallbackRegistry();
    const l3 = new L3Service();
    subscribeInstance(registry, l3);
    subscribeInstance(registry, l3);
    expect(registry.subscriptions()).toHaveLength(4);
    await registry.notify(NETWORK, AFTER_DELETE, 'test');
    expect(l3.seen).toEqual(['L3Service.routersUpdated']);
  });

  it('does not subscribe an overridden method that lost its decorator', () => {
    const registry = new CallbackRegistry();
    subscribeInstance(registry, new QuietL3Service());
    expect(registry.hasSubscribers(PORT, BEFORE_DELETE)).toBe(false);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(true);
  });

  it('returns one subscription that unsubscribes them all, also with using', () => {
    const registry = new CallbackRegistry();
    const keep = registry.subscribe(() => undefined, PORT, AFTER_CREATE);
    subscribeInstance(registry, new L3Service()).unsubscribe();
    {
      using handlers = subscribeInstance(registry, new DvrService());
      expect(handlers.subscriptions).toHaveLength(5);
      expect(registry.subscriptions()).toHaveLength(6);
    }
    expect(registry.subscriptions().map((s) => s.id)).toEqual([keep.id]);
  });

  it('subscribes nothing for an instance without handlers', () => {
    const registry = new CallbackRegistry();
    expect(subscribeInstance(registry, {}).subscriptions).toEqual([]);
    expect(registry.subscriptions()).toEqual([]);
  });

  it('refuses an instance whose own property hides a decorated method, and subscribes none of it', () => {
    const registry = new CallbackRegistry();
    const l3 = Object.assign(new L3Service(), { routersUpdated: 'not a method' });
    expect(() => subscribeInstance(registry, l3)).toThrow(InvalidError);
    expect(registry.subscriptions()).toEqual([]);
  });

  it('refuses something that is not an object', () => {
    expect(() => subscribeInstance(new CallbackRegistry(), 'l3' as never)).toThrow(InvalidError);
  });
});
