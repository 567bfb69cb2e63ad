/** Several devices per person (docs/devices.md): device lists, linking, and the Sesame fan-out. */
export * from './errors.ts';
export * from './device-list.ts';
export * from './link-code.ts';
export * from './channel.ts';
export * from './handshake.ts';
export * from './transfer.ts';
export * from './fan-out.ts';
export * from './link-signal.ts';
export * from './roster.ts';
export * from './branch.ts';
export * from './returns.ts';
