/**
 * The app's connect-src: cleartext WebSockets only to this machine (where every network's
 * default node is), TLS WebSockets to the node a user chooses, nothing else; the settings
 * refuse what the policy would block, with the reason, instead of failing as "unreachable".
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CSP_HEADER, CSP_META, nodeUrlAllowed } from '../../src/web/csp.ts';
import { NETWORKS } from '../../src/web/engine/network.ts';
import { SettingsInputError, parseNodeUrls } from '../../src/web/format.ts';

function connectSrc(policy: string): string[] {
  const d = policy.split(';').map((s) => s.trim().split(/\s+/));
  return d.find(([name]) => name === 'connect-src')!.slice(1);
}

describe('CSP connect-src', () => {
  it('allows no cleartext WebSocket beyond this machine', () => {
    for (const policy of [CSP_META, CSP_HEADER]) {
      const sources = connectSrc(policy);
      assert.ok(!sources.includes('ws:'), `bare ws: in ${sources.join(' ')}`);
      assert.ok(!sources.includes('*') && !sources.includes('http:') && !sources.includes('https:'));
      assert.deepEqual(sources, ["'self'", 'ws://127.0.0.1:*', 'ws://localhost:*', 'wss:']);
    }
  });

  it('allows every default node, local nodes on other ports, and TLS nodes the user chooses', () => {
    for (const n of Object.values(NETWORKS)) assert.ok(nodeUrlAllowed(n.defaultNodeUrl), n.defaultNodeUrl);
    for (const url of [
      'ws://127.0.0.1:40123',
      'ws://localhost:18110',
      'wss://node.example',
      'wss://10.0.0.5:18110',
    ])
      assert.ok(nodeUrlAllowed(url), url);
    for (const url of [
      'ws://node.example:18110',
      'ws://10.0.0.5:18110',
      'ws://[::1]:18510',
      'http://127.0.0.1:1',
      'x',
    ])
      assert.ok(!nodeUrlAllowed(url), url);
  });

  it('settings refuse a node the policy would block, naming the line and the fix', () => {
    assert.throws(
      () => parseNodeUrls('ws://127.0.0.1:18510\nws://node.example:18110'),
      (e: unknown) =>
        e instanceof SettingsInputError &&
        e.field === 'nodeUrls' &&
        /Line 2/.test(e.message) &&
        /wss:\/\//.test(e.message),
    );
    assert.deepEqual(parseNodeUrls('ws://localhost:18510\nwss://node.example'), [
      'ws://localhost:18510',
      'wss://node.example',
    ]);
  });
});
