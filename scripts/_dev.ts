import { startDevnet } from '../src/devnet/index.ts';
const d = await startDevnet({ port: 0, blocksPerSecond: 10 });
console.log(d.url, d.controlUrl);
setInterval(() => {}, 1000);
