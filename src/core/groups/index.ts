/** Group conversations: signed membership, sender keys, group frames (docs/groups.md). */
export * from './errors.ts';
export * from './change.ts';
export * from './state.ts';
export * from './log.ts';
