export * from './errors.ts';
export * from './close-codes.ts';
export * from './limits.ts';
export * from './json-bounds.ts';
export * from './frames.ts';
export * from './rest.ts';
