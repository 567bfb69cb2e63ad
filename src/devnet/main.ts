/**
 * `npm run devnet [-- options]`: runs the local network alone, or, with `--fund`, asks a
 * running one's control endpoint to fund addresses and exits.
 *
 *   --port=18510 --rpc-ports=18610,18710 --bps=10 --datadir=DIR --pruning-depth=N --coinbase-maturity=N
 *   --prefund=kaspasim:…=1000   (repeatable; KAS)
 *   --fund=kaspasim:…=100       (repeatable; KAS; talks to a running devnet on port+1)
 */
import { parseArgs } from 'node:util';
import { stringifyJson } from '../kaspa/rpc/json.ts';
import { DEFAULT_RPC_PORT } from './params.ts';
import { parseKas, startDevnet } from './index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'rpc-ports': { type: 'string' },
    bps: { type: 'string' },
    datadir: { type: 'string' },
    'pruning-depth': { type: 'string' },
    'coinbase-maturity': { type: 'string' },
    prefund: { type: 'string', multiple: true },
    fund: { type: 'string', multiple: true },
    help: { type: 'boolean' },
  },
  strict: true,
});

function int(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`--${name} expects a non-negative integer, got ${text}`);
  return n;
}

/** `address=KAS` pairs. */
function pairs(list: readonly string[] | undefined): [string, bigint][] {
  return (list ?? []).map((item) => {
    const eq = item.lastIndexOf('=');
    if (eq < 0) throw new RangeError(`expected address=KAS, got ${item}`);
    return [item.slice(0, eq), parseKas(item.slice(eq + 1))];
  });
}

async function main(): Promise<void> {
  if (values.help === true) {
    console.log(
      'usage: npm run devnet -- [--port=18510] [--rpc-ports=P,P…] [--bps=10] [--datadir=DIR] [--pruning-depth=N] ' +
        '[--coinbase-maturity=N] [--prefund=kaspasim:…=KAS]… | --fund=kaspasim:…=KAS…',
    );
    return;
  }
  const port = int('port', values.port) ?? DEFAULT_RPC_PORT;
  if (values.fund !== undefined) {
    for (const [address, sompi] of pairs(values.fund)) {
      const res = await fetch(`http://127.0.0.1:${port + 1}/devnet/fund`, {
        method: 'POST',
        body: stringifyJson({ address, sompi }),
      });
      console.log(`${address}: ${res.status} ${await res.text()}`);
      if (!res.ok) process.exitCode = 1;
    }
    return;
  }
  const maturity = int('coinbase-maturity', values['coinbase-maturity']);
  const pruningDepth = int('pruning-depth', values['pruning-depth']);
  const rpcPorts = (values['rpc-ports'] ?? '')
    .split(',')
    .filter((p) => p !== '')
    .map((p) => int('rpc-ports', p)!);
  const devnet = await startDevnet({
    port,
    rpcPorts,
    blocksPerSecond: int('bps', values.bps) ?? 10,
    ...(values.datadir === undefined ? {} : { dataDir: values.datadir }),
    ...(pruningDepth === undefined ? {} : { pruningDepth }),
    ...(maturity === undefined ? {} : { coinbaseMaturity: BigInt(maturity) }),
    prefund: Object.fromEntries(pairs(values.prefund)),
  });
  console.log(`devnet (simnet) wRPC JSON on ${devnet.urls.join(', ')}`);
  console.log(`control endpoint on ${devnet.controlUrl ?? 'disabled'}; faucet ${devnet.faucetAddress}`);
  const shutdown = (): void => {
    devnet.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
