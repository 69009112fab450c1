/**
 * The in-process peers, each behind the same small interface. Every operation that is timed is
 * written against the library's own object in a closure of its own (`publisher`, `rotator`,
 * `churn`), so the benchmark adds no shared call site between the loop and the library.
 * @module
 */

import { EventEmitter as NodeEmitter } from 'node:events';
import Emittery from 'emittery';
import eventemitter2Module from 'eventemitter2';
import { EventEmitter as EventEmitter3 } from 'eventemitter3';
import mittModule from 'mitt';
import { EventEmitter as Tseep } from 'tseep';
import type { Handler } from './handlers.js';

/** One peer emitter with handlers subscribed through `on`. */
export interface PeerEmitter {
  on(name: string, fn: Handler): void;
  /** One publish of `payload` under `name`. */
  publisher(name: string, payload: unknown): () => unknown;
  /** One publish per call, under `names[0]`, `names[1]`, … round and round. */
  rotator(names: readonly string[], payload: unknown): () => unknown;
  /** Subscribe `fn` to `name`, then unsubscribe it. */
  churn(name: string, fn: Handler): () => unknown;
}

export interface Peer {
  readonly name: string;
  /** Publishing returns a promise (emittery): only in the async cases. */
  readonly async?: boolean;
  create(): PeerEmitter;
}

// These packages' types describe ES modules, but Node loads their CommonJS builds: the default
// import is the module's `module.exports`.
const mitt = mittModule as unknown as typeof mittModule.default;
const { EventEmitter2 } = eventemitter2Module;

function next(i: number, length: number): number {
  return i + 1 === length ? 0 : i + 1;
}

const nodeEvents: Peer = {
  name: 'node:events',
  create() {
    const e = new NodeEmitter();
    e.setMaxListeners(0);
    return {
      on: (name, fn) => void e.on(name, fn),
      publisher: (name, payload) => () => e.emit(name, payload),
      rotator: (names, payload) => {
        let i = 0;
        return () => e.emit(names[(i = next(i, names.length))]!, payload);
      },
      churn: (name, fn) => () => e.on(name, fn).off(name, fn),
    };
  },
};

const eventemitter3: Peer = {
  name: 'eventemitter3',
  create() {
    const e = new EventEmitter3();
    return {
      on: (name, fn) => void e.on(name, fn),
      publisher: (name, payload) => () => e.emit(name, payload),
      rotator: (names, payload) => {
        let i = 0;
        return () => e.emit(names[(i = next(i, names.length))]!, payload);
      },
      churn: (name, fn) => () => e.on(name, fn).off(name, fn),
    };
  },
};

const mittPeer: Peer = {
  name: 'mitt',
  create() {
    const e = mitt<Record<string, unknown>>();
    return {
      on: (name, fn) => e.on(name, fn),
      publisher: (name, payload) => () => e.emit(name, payload),
      rotator: (names, payload) => {
        let i = 0;
        return () => e.emit(names[(i = next(i, names.length))]!, payload);
      },
      churn: (name, fn) => () => {
        e.on(name, fn);
        e.off(name, fn);
      },
    };
  },
};

const tseep: Peer = {
  name: 'tseep',
  create() {
    const e = new Tseep<Record<string, Handler>>();
    return {
      on: (name, fn) => void e.on(name, fn),
      publisher: (name, payload) => () => e.emit(name, payload),
      rotator: (names, payload) => {
        let i = 0;
        return () => e.emit(names[(i = next(i, names.length))]!, payload);
      },
      churn: (name, fn) => () => e.on(name, fn).off(name, fn),
    };
  },
};

const eventemitter2: Peer = {
  name: 'eventemitter2',
  create() {
    const e = new EventEmitter2({ maxListeners: 0 });
    return {
      on: (name, fn) => void e.on(name, fn),
      publisher: (name, payload) => () => e.emit(name, payload),
      rotator: (names, payload) => {
        let i = 0;
        return () => e.emit(names[(i = next(i, names.length))]!, payload);
      },
      churn: (name, fn) => () => {
        e.on(name, fn);
        e.off(name, fn);
      },
    };
  },
};

const emittery: Peer = {
  name: 'emittery',
  async: true,
  create() {
    const e = new Emittery();
    return {
      on: (name, fn) => void e.on(name, fn),
      publisher: (name, payload) => () => e.emit(name, payload),
      rotator: (names, payload) => {
        let i = 0;
        return () => e.emit(names[(i = next(i, names.length))]!, payload);
      },
      churn: (name, fn) => () => e.on(name, fn)(),
    };
  },
};

/** Every in-process peer. */
export const peers: readonly Peer[] = [nodeEvents, eventemitter3, mittPeer, tseep, eventemitter2, emittery];
