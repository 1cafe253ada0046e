export { connectTarget, ready } from './redis-target.ts';
