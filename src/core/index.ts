/** p2pComm core, headless: the same entry in the browser and in Node (tests, CLI, web app). */
export * from './delivery/index.ts';
