/**
 * What node operators learn about one client (100 watched addresses, 20 submissions to one
 * recipient) through a NodePool of 3 nodes, beside the same client on one node, and what the
 * decoy sets cost (docs/privacy.md "What a node operator learns").
 */
import { measureOperatorView, type OperatorView } from '../test/kaspa/node-pool-helpers.ts';
import type { Bench } from './table.ts';

const pct = (x: number): string => `${Math.round(x * 100)} %`;
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
const cost = (v: OperatorView): string =>
  `${v.traffic.requests} requests, ${kb(v.traffic.bytesSent)} sent, ${kb(v.traffic.bytesReceived)} received`;

const bench: Bench = async () => {
  const one = await measureOperatorView({ nodes: 1 });
  const three = await measureOperatorView({ nodes: 3 });
  const decoys = await measureOperatorView({ nodes: 3, setSize: 4 });
  return {
    title: 'Node operators: what each learns of one client (100 watched addresses, 20 submissions)',
    rows: [
      {
        name: 'share of the watched addresses each operator is asked about, 3 nodes',
        value: three.shares.map(pct).join(' / '),
        reference: `1 node: ${one.shares.map(pct).join('')}`,
        note: 'keyed rendezvous assignment; expected 1/3 each',
      },
      {
        name: 'submissions whose node also holds the recipient subscription, 3 nodes',
        value: `${three.submitterSawRecipient} / ${three.submissions}`,
        reference: `1 node: ${one.submitterSawRecipient} / ${one.submissions}`,
        note: 'sent where the spent coin is watched; expected 1/3',
      },
      {
        name: 'addresses each operator is asked about, decoy sets of 4, 3 nodes',
        value: `${decoys.asked.join(' / ')} (real: ${decoys.shares.map((s) => Math.round(s * 100)).join(' / ')})`,
        reference: `no decoys: ${three.asked.join(' / ')}`,
        note: 'decoys are recent real outputs',
      },
      {
        name: 'client traffic, watch + 20 submissions, decoy sets of 4',
        value: cost(decoys),
        reference: `no decoys: ${cost(three)}; 1 node: ${cost(one)}`,
        note: 'same request count: decoys ride in the same requests',
      },
    ],
  };
};
export default bench;
