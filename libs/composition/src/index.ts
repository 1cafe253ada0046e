export { assembleBackend, createChatSwitch, type Backend, type BackendParts } from './backend.ts';
export { createBackend } from './create-backend.ts';
export { createConsumerBackend, createServicesBackend, type ConsumerBackend, type ServicesBackendOptions } from './services-backend.ts';
export { createEventBackend, type EventBackend, type EventBackendOptions } from './event-backend.ts';
export { createEmbeddedBackend, type EmbeddedBackendOptions } from './embedded-backend.ts';
export { createVerifier } from './create-verifier.ts';
export { timeCalls, timedBus, timedConsumer, timedQueue, timedSessionState, timedStore } from './timed-ports.ts';
