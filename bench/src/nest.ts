/**
 * @nestjs/event-emitter, the closest decorator + DI peer: each handler is the method of its own
 * `@Injectable()` provider, declared with `@OnEvent`, found by Nest when the application context
 * starts. The decorators are applied as functions because the providers are generated (each method
 * must be a distinct function, see handlers.ts); that is exactly what the `@` syntax compiles to.
 * @module
 */

import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import type { Handler } from './handlers.js';

export interface NestApp {
  readonly emitter: EventEmitter2;
  close(): Promise<void>;
}

/** A Nest application context whose providers handle `event`, one provider per handler. */
export async function nestApp(handlers: readonly Handler[], event: string): Promise<NestApp> {
  const providers = handlers.map((handle, i) => {
    const Listener = { [`Listener${i}`]: class {} }[`Listener${i}`]!;
    Object.defineProperty(Listener.prototype, 'handle', { value: handle, writable: true, configurable: true });
    OnEvent(event)(Listener.prototype, 'handle', Object.getOwnPropertyDescriptor(Listener.prototype, 'handle')!);
    Injectable()(Listener);
    return Listener;
  });
  const AppModule = class AppModule {};
  Module({ imports: [EventEmitterModule.forRoot({ maxListeners: 0 })], providers })(AppModule);
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  await app.init();
  return { emitter: app.get(EventEmitter2), close: () => app.close() };
}
