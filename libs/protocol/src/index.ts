export * from './errors.ts';
export * from './close-codes.ts';
export * from './limits.ts';
export * from './frames.ts';
export * from './rest.ts';
export * from './queued-message.ts';
export * from './dead-letters.ts';
export * from './seq-gap.ts';
