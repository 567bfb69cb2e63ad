/** Storage entry point for Node (CLI, devnet, tests): everything portable plus the SQLite backend. */
export * from './index.ts';
export { openSqliteStore, type SqliteOptions } from './sqlite.ts';
export { PROFILE_FILES, openProfileDirectory, type ProfileDirectoryOptions } from './profile-dir.ts';
