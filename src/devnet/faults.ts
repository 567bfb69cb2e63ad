/** The fault-injection surface of the local network, shared by the in-process API and the control endpoint. */

/** Fault injection for tests (also reachable on the control endpoint). */
export interface DevnetFaults {
  /** Closes every wRPC connection abruptly; returns how many were open. */
  dropConnections(): number;
  /** Delays every notification by `ms` (0 restores immediate delivery). */
  delayNotifications(ms: number): void;
  /** Holds every notification back until `releaseNotifications`. */
  withholdNotifications(): void;
  /** Ends withholding and delivers (or with `discard`, drops) what was held; returns how many. */
  releaseNotifications(opts?: { discard?: boolean }): number;
  /** Stops automatic block production. */
  pauseMining(): void;
  /** Resumes automatic block production. */
  resumeMining(): void;
  /**
   * Replaces the last `depth` chain blocks by `replacement` (default depth + 1) new blocks that do
   * not merge them; their transactions return to the mempool (or are dropped). Returns block hashes.
   */
  reorg(
    depth: number,
    opts?: { replacement?: number; dropTransactions?: boolean },
  ): { removed: string[]; added: string[] };
}
