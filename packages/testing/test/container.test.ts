import 'reflect-metadata';
import '@herald/testing/jest';
import { describe, expect, it } from '@jest/globals';
import {
  ABORT_DELETE,
  BEFORE_DELETE,
  CallbackFailure,
  CallbackRegistry,
  EventPayload,
  InvalidError,
  OnResource,
  ROUTER,
} from '@herald/core';
import { callbacksModule, SubscriberBootError } from '@herald/inversify';
import { createTestContainer, TestContainer } from '@herald/testing';
import { ContainerModule, inject, injectable } from 'inversify';

@injectable()
class RouterGuard {
  readonly aborted: unknown[] = [];

  @OnResource(ROUTER, BEFORE_DELETE)
  refuse(): void {
    throw new Error('router in use');
  }

  @OnResource(ROUTER, ABORT_DELETE)
  undo(payload: EventPayload | undefined): void {
    this.aborted.push(payload?.resourceId);
  }
}

@injectable()
class RouterDeleter {
  constructor(@inject(CallbackRegistry) private readonly callbacks: CallbackRegistry) {}

  delete(id: string): Promise<void> {
    return this.callbacks.notify(ROUTER, BEFORE_DELETE, this, new EventPayload(null, { resourceId: id }));
  }
}

const guardModule = new ContainerModule(({ bind }) => {
  bind(RouterGuard).toSelf().inSingletonScope();
  bind(RouterDeleter).toSelf();
});

describe('createTestContainer', () => {
  it('returns a booted container: subscribers are subscribed and notifications recorded', async () => {
    using container = await createTestContainer(guardModule);
    expect(container).toBeInstanceOf(TestContainer);
    expect(container.boot.subscriptions.map((s) => s.id)).toEqual([
      expect.stringMatching(/^RouterGuard\.refuse#\d+$/),
      expect.stringMatching(/^RouterGuard\.undo#\d+$/),
    ]);
    await expect(container.get(RouterDeleter).delete('r1')).rejects.toThrow(CallbackFailure);
    expect(container.recorder).toHaveVetoed(ROUTER, BEFORE_DELETE);
    expect(container.recorder).toHaveNotified(ROUTER, ABORT_DELETE);
    expect(container.get(RouterGuard).aborted).toEqual(['r1']);
  });

  it('gives the trigger services the registry it exposes, distinct from the default one', async () => {
    using container = await createTestContainer(guardModule);
    expect(container.get(CallbackRegistry)).toBe(container.registry);
    expect(container.registry.name).toBe('test container');
  });

  it('uses a callbacksModule passed among the modules instead of loading its own', async () => {
    using container = await createTestContainer(callbacksModule({ name: 'mine' }), guardModule);
    expect(container.registry.name).toBe('mine');
  });

  it('unsubscribes and stops recording on dispose, and tolerates a second dispose', async () => {
    const container = await createTestContainer(guardModule);
    const { registry, recorder } = container;
    container.dispose();
    container.dispose();
    expect(registry.subscriptions()).toEqual([]);
    expect(container.isBound(RouterGuard)).toBe(false);
    expect(recorder.records).toEqual([]);
  });

  it('fails like bootCallbacks when a subscriber cannot be resolved', async () => {
    @injectable()
    class NeedsSomething {
      constructor(@inject('missing') readonly missing: unknown) {}
      @OnResource(ROUTER, BEFORE_DELETE)
      check(): void {}
    }
    const broken = new ContainerModule(({ bind }) => void bind(NeedsSomething).toSelf().inSingletonScope());
    await expect(createTestContainer(broken)).rejects.toThrow(SubscriberBootError);
  });

  it('takes modules in arrays too, and the container itself as what the matchers read', async () => {
    using container = await createTestContainer([callbacksModule({ name: 'listed' }), guardModule]);
    expect(container.registry.name).toBe('listed');
    await expect(container.get(RouterDeleter).delete('r2')).rejects.toThrow(CallbackFailure);
    expect(container).toHaveVetoed(ROUTER, BEFORE_DELETE);
    expect(container.registry).toHaveNotified(ROUTER, ABORT_DELETE);
  });

  it('refuses an argument that is not a ContainerModule, naming its position', async () => {
    await expect(createTestContainer(guardModule, {} as ContainerModule)).rejects.toThrow(InvalidError);
    await expect(createTestContainer(undefined as unknown as ContainerModule)).rejects.toThrow(
      /undefined for module #1 .*ContainerModule/,
    );
  });

  it('refuses to hand out a registry on a container it did not build', () => {
    expect(() => new TestContainer().registry).toThrow(/await createTestContainer/);
  });
});
