/** Attachments: files, images, voice notes and long text (issue 14, issue 15 item 3). */
export * from './errors.ts';
export * from './limits.ts';
export * from './manifest.ts';
export * from './cipher.ts';
export * from './status.ts';
export * from './store.ts';
export * from './long-text.ts';
export * from './chain-plan.ts';
export * from './transfer.ts';
export * from './direct-frame.ts';
export * from './engine-port.ts';
