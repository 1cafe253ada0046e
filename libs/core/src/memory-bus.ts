import type { Bus } from './ports.ts';

/** The in-process stand-in for Redis pub/sub: every MemoryBus made from one hub sees the others' publishes. */
export class MemoryHub {
  readonly #buses = new Set<MemoryBus>();

  bus(): MemoryBus {
    const bus = new MemoryBus(this);
    this.#buses.add(bus);
    return bus;
  }

  deliver(sessionId: string, payload: string): void {
    for (const bus of this.#buses) bus.receive(sessionId, payload);
  }

  detach(bus: MemoryBus): void {
    this.#buses.delete(bus);
  }
}

/**
 * One process's view of the hub, for the embedded mode. Delivery is asynchronous, like Redis
 * pub/sub, so callers cannot come to rely on a publish reaching subscribers before it returns.
 */
export class MemoryBus implements Bus {
  readonly #hub: MemoryHub;
  readonly #subscribers = new Map<string, (payload: string) => void>();

  constructor(hub: MemoryHub) {
    this.#hub = hub;
  }

  publish(sessionId: string, payload: string): Promise<void> {
    queueMicrotask(() => this.#hub.deliver(sessionId, payload));
    return Promise.resolve();
  }

  receive(sessionId: string, payload: string): void {
    this.#subscribers.get(sessionId)?.(payload);
  }

  subscribe(sessionId: string, onPayload: (payload: string) => void): Promise<void> {
    this.#subscribers.set(sessionId, onPayload);
    return Promise.resolve();
  }

  unsubscribe(sessionId: string): Promise<void> {
    this.#subscribers.delete(sessionId);
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#subscribers.clear();
    this.#hub.detach(this);
    return Promise.resolve();
  }
}
