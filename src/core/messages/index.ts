/** Message actions (reply, reactions, edit, delete, forward) over stored message records. */
export * from './actions.ts';
export * from './fold.ts';
export * from './service.ts';
