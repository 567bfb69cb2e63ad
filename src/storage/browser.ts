/** Storage entry point for browser bundles: everything portable plus the IndexedDB backend. */
export * from './index.ts';
export { deleteIndexedDbStore, openIndexedDbStore, type IndexedDbOptions } from './indexeddb.ts';
