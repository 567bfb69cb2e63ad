/**
 * A NodePool over one node behaves as one KaspaRpcClient: the UtxoWatcher and PayloadFetcher
 * suites run unchanged with a one-node pool in place of the client (the fake server's
 * `serverAndClient` hands the pool out when this flag is set, before the suites load).
 */
process.env['P2PCOMM_ONE_NODE_POOL'] = '1';
await import('./rpc/utxo-watcher.test.ts');
await import('./rpc/payload-fetch.test.ts');
export {};
