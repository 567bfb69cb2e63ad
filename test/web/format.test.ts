/** Words, numbers and input parsers of the web app (pure functions, no DOM). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  LOW_BALANCE_MESSAGES,
  SettingsInputError,
  connectionWords,
  headerWords,
  lengthWords,
  secureBadgeWords,
  countMessages,
  explorerTxUrl,
  formatIceServers,
  formatKas,
  inviteCodeFrom,
  inviteLink,
  isLowBalance,
  networkStateShort,
  networkStateWords,
  parseIceServers,
  parseNodeUrls,
  statusTicks,
  statusWords,
  waitingWords,
} from '../../src/web/format.ts';

const TX = 'ab'.repeat(32);

describe('format', () => {
  it('words the connection states as the product does', () => {
    assert.equal(connectionWords('connected'), 'Connected');
    assert.equal(connectionWords('connecting'), 'Away');
    assert.equal(connectionWords('offline'), 'Away');
    assert.equal(headerWords('connected', 'Bob', { youOffline: true }), 'Connected');
    for (const state of ['connecting', 'offline'] as const) {
      assert.equal(headerWords(state, 'Bob'), 'Waiting for Bob; messages will be delivered securely');
      assert.equal(headerWords(state, 'Bob', { youOffline: true }), 'You are offline');
      assert.match(headerWords(state, 'Bob', { p2pOnly: true }), /^Waiting for Bob; .*wait/);
    }
  });

  it('words the reach of the network without jargon, short and long', () => {
    for (const state of ['online', 'connecting', 'unreachable'] as const) {
      for (const words of [networkStateWords(state), networkStateShort(state)])
        assert.doesNotMatch(words, /node|rpc|kaspa|chain|socket|wrpc/i);
      assert.ok(networkStateWords(state).startsWith(networkStateShort(state).replace(/\.\.\.$/, '')));
    }
    assert.match(networkStateWords('unreachable'), /nothing is lost/);
  });

  it('says why messages wait in direct only mode, singular and plural', () => {
    assert.equal(waitingWords(0, 'Bob'), undefined);
    assert.match(waitingWords(1, 'Bob') ?? '', /^1 message waits: .* it goes when Bob is online/);
    assert.match(waitingWords(1234, 'Bob') ?? '', /^1,234 messages wait: .* they go when Bob is online/);
  });

  it('has ticks and spoken words for every status', () => {
    assert.deepEqual(
      (['sending', 'sent', 'delivered', 'read', 'failed'] as const).map((s) => [
        statusTicks(s),
        statusWords(s),
      ]),
      [
        ['\u00b7\u00b7\u00b7', 'Sending'],
        ['\u2713', 'Sent'],
        ['\u2713\u2713', 'Delivered'],
        ['\u2713\u2713 read', 'Read'],
        ['!', 'Not delivered'],
      ],
    );
  });

  it('badges a secure message "verified delivery" only with the receipt, "sent securely" before', () => {
    for (const status of ['sending', 'sent', 'failed'] as const)
      assert.equal(secureBadgeWords({ outgoing: true, status }), 'sent securely');
    for (const status of ['delivered', 'read'] as const)
      assert.equal(secureBadgeWords({ outgoing: true, status }), 'verified delivery');
    assert.equal(secureBadgeWords({ outgoing: false, status: 'delivered' }), 'verified delivery');
  });

  it('counts a draft only near the limit and says by how much one over it is too long', () => {
    assert.equal(lengthWords(0, 4000), undefined);
    assert.equal(lengthWords(3499, 4000), undefined);
    assert.deepEqual(lengthWords(3500, 4000), { text: '3,500 / 4,000', over: false });
    assert.deepEqual(lengthWords(4000, 4000), { text: '4,000 / 4,000', over: false });
    const over = lengthWords(10_000, 4000);
    assert.equal(over?.over, true);
    assert.match(over?.text ?? '', /^10,000 \/ 4,000: too long by 6,000 characters/);
  });

  it('links proofs to the explorer on mainnet and testnet-10 only, for well-formed ids only', () => {
    assert.equal(explorerTxUrl('mainnet', TX), `https://explorer.kaspa.org/txs/${TX}`);
    assert.equal(explorerTxUrl('testnet-10', TX), `https://explorer-tn10.kaspa.org/txs/${TX}`);
    assert.equal(explorerTxUrl('local', TX), undefined);
    assert.equal(explorerTxUrl('mainnet', `${TX}/../../evil`), undefined);
    assert.equal(explorerTxUrl('mainnet', TX.toUpperCase()), undefined);
  });

  it('shows the low-balance banner under 20 messages, never in P2P-only mode', () => {
    assert.equal(LOW_BALANCE_MESSAGES, 20);
    assert.equal(isLowBalance(19, false), true);
    assert.equal(isLowBalance(20, false), false);
    assert.equal(isLowBalance(0, true), false);
    assert.equal(countMessages(1), '1 message');
    assert.equal(countMessages(1234), '1,234 messages');
  });

  it('formats sompi exactly (bigint, 8 decimals)', () => {
    assert.equal(formatKas(223_600n), '0.00223600 KAS');
    assert.equal(formatKas(2_900_000_000_000_000_000n), '29,000,000,000.00000000 KAS');
    assert.equal(formatKas(-1n), '-0.00000001 KAS');
  });

  it('finds the invite code in a link, a fragment or on its own, and round-trips inviteLink', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{8,200}$/), (code) => {
        const link = inviteLink('http://127.0.0.1:8080/app/?demo=1#/chats', code);
        assert.equal(link, `http://127.0.0.1:8080/app/#/add/${code}`);
        assert.equal(inviteCodeFrom(link), code);
        assert.equal(inviteCodeFrom(`  #/add/${code}\n`), code);
        assert.equal(inviteCodeFrom(code), code);
      }),
    );
  });

  it('accepts every documented form of a contact link: p2pcomm:, the invite URL, with whitespace', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{8,200}$/), (code) => {
        const link = inviteLink('https://example.org/app/', code);
        for (const form of [
          `p2pcomm:${code}`,
          `P2PCOMM:${code}`,
          `  p2pcomm:${code}\n`,
          `\t${link}  `,
          `${link.replace('#/add/', '#/add/p2pcomm:')}`,
          `https://example.org/app/#p2pcomm:${code}`,
          `#/add/p2pcomm:${code}`,
        ]) {
          assert.equal(inviteCodeFrom(form), code, form);
        }
      }),
    );
  });

  it('rejects what is not an invite code', () => {
    for (const bad of [
      '',
      'short',
      'has spaces in it',
      '<img src=x onerror=alert(1)>',
      '#/add/%E0%A4%A',
      'x'.repeat(5000),
      'p2pcomm:',
      'p2pcomm:short',
      'mailto:abcdefghijkl',
    ]) {
      assert.equal(inviteCodeFrom(bad), undefined, bad);
    }
  });

  it('parses node addresses, one ws:// or wss:// per line', () => {
    assert.deepEqual(parseNodeUrls('ws://127.0.0.1:18610\n\n  wss://node.example:443  \n'), [
      'ws://127.0.0.1:18610',
      'wss://node.example:443',
    ]);
    assert.throws(
      () => parseNodeUrls('ws://127.0.0.1:1\nhttp://127.0.0.1:1'),
      (e: unknown) => {
        return e instanceof SettingsInputError && e.field === 'nodeUrls' && /Line 2/.test(e.message);
      },
    );
    assert.throws(() => parseNodeUrls('not a url'), SettingsInputError);
  });

  it('parses ICE servers (STUN bare, TURN with user and secret) and formats them back', () => {
    const text = 'stun:127.0.0.1:3478\nturn:turn.example:3478 alice s3cret\n';
    const servers = parseIceServers(text);
    assert.deepEqual(servers, [
      { urls: 'stun:127.0.0.1:3478' },
      { urls: 'turn:turn.example:3478', username: 'alice', credential: 's3cret' },
    ]);
    assert.equal(formatIceServers(servers), text.trim());
    for (const bad of ['http://x', 'turn:x:1', 'stun:x:1 user pass', 'turn:x:1 a b c']) {
      assert.throws(
        () => parseIceServers(bad),
        (e: unknown) => e instanceof SettingsInputError && e.field === 'iceServers',
        bad,
      );
    }
  });
});
