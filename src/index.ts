export * from './search/index.js';
export { InputError } from './errors.js';
