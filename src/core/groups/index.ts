/** Group conversations: signed membership, sender keys, group frames (docs/groups.md). */
export * from './errors.ts';
export * from './change.ts';
export * from './state.ts';
export * from './log.ts';
export * from './sender-key.ts';
export * from './distribution.ts';
export * from './frame.ts';
export * from './content.ts';
export * from './notify.ts';
export * from './group-session.ts';
