/** The `--help` texts of `p2pcomm` and of each command. */
import { REACTIONS } from '../web/app-api.ts';

/** One command: how it is called, one line about it, and the details of `--help`. */
export interface CommandHelp {
  readonly usage: string;
  readonly summary: string;
  readonly details?: string;
}

export const COMMANDS: Readonly<Record<string, CommandHelp>> = {
  init: {
    usage: 'p2pcomm init [--name NAME]',
    summary: 'create an identity in the data directory',
    details:
      'Asks for a name (unless --name) and a password (twice), and prints the recovery words:\n' +
      'write them down, they are the only way back if the password is lost.\n' +
      'On the local network with --faucet the new identity is funded for offline messages.',
  },
  restore: {
    usage: 'p2pcomm restore --name NAME',
    summary: 'replace the profile by the identity of a recovery key',
    details:
      'The recovery words come from a prompt on a terminal, or from standard input (one line).\n' +
      'The password given becomes the new password. Contacts come back when they write again.',
  },
  card: {
    usage: 'p2pcomm card [--no-qr] [--json]',
    summary: 'show your invite link and its QR code',
    details:
      'The link (p2pcomm:...) is what a contact pastes into the web app or `p2pcomm add`.\n' +
      'The QR code is drawn on a terminal only, and needs a terminal about 190 columns wide.',
  },
  add: { usage: 'p2pcomm add <invite-link> [--json]', summary: 'add a contact from their invite link' },
  contacts: { usage: 'p2pcomm contacts [--json]', summary: 'list contacts and their connection' },
  send: {
    usage: 'p2pcomm send <contact> <text...> [--wait queued|sent|delivered] [--timeout SECONDS] [--json]',
    summary: 'send a message and wait until it has left',
    details:
      '<contact> is a name, an id or a fingerprint. Text "-" reads the message from standard input.\n' +
      '--wait sent (default) returns once the message left directly or in a published transaction;\n' +
      '--wait delivered waits for the receipt. --timeout (default 120) bounds the wait (exit 4).\n' +
      'Prints the message id (for `p2pcomm proof`).',
  },
  reply: {
    usage: 'p2pcomm reply <contact> <message-id> <text...> [--wait queued|sent] [--timeout SECONDS] [--json]',
    summary: 'reply to a message, quoting it',
    details:
      'The message id is the one `send` prints or `history` lists. Text "-" reads standard input.\n' +
      '--wait sent (default) returns once the reply left; queued at once (it goes out next time).',
  },
  react: {
    usage: 'p2pcomm react <message-id> <reaction|none> [--wait queued|sent] [--timeout SECONDS] [--json]',
    summary: 'react to a message, or take the reaction back (none)',
    details: `One reaction per person per message, one of: ${REACTIONS.join(' ')}.`,
  },
  edit: {
    usage: 'p2pcomm edit <message-id> <text...> [--wait queued|sent] [--timeout SECONDS] [--json]',
    summary: 'change the text of one of your messages (within 24 hours)',
  },
  delete: {
    usage: 'p2pcomm delete <message-id> --everyone | --for-me [--json]',
    summary: 'delete a message for everyone (yours) or from this device only',
    details:
      '--everyone: both sides show it deleted and drop its text. If it went by secure delivery,\n' +
      'an encrypted copy stays on the public ledger until nodes prune it (about 30 hours).\n' +
      '--for-me: removes it (either direction) from this device only; nothing is sent.',
  },
  forward: {
    usage: 'p2pcomm forward <message-id> <contact...> [--wait queued|sent] [--timeout SECONDS] [--json]',
    summary: 'send the text of a message to other contacts, marked forwarded',
  },
  chat: {
    usage: 'p2pcomm chat <contact>',
    summary: 'talk with a contact interactively',
    details:
      'Shows the recent messages, then every new one as it arrives, with ticks (\u00b7\u00b7\u00b7 sending,\n' +
      '\u2713 sent, \u2713\u2713 delivered) and the connection state. Type a line and Enter to send;\n' +
      '/quit or Ctrl-D to leave (messages still sending are waited for, up to --timeout seconds).',
  },
  listen: {
    usage: 'p2pcomm listen',
    summary: 'print incoming messages and status changes as JSON lines',
    details:
      'One JSON object per line on standard output, until interrupted: first {"type":"ready",...},\n' +
      'then "message", "connection", "network", "balance" and "requests" events (docs/api.md).',
  },
  history: {
    usage: 'p2pcomm history <contact> [--limit N] [--json]',
    summary: 'print the conversation with a contact',
  },
  proof: { usage: 'p2pcomm proof <message-id> [--json]', summary: 'show the chain proof of a message' },
  balance: { usage: 'p2pcomm balance [--json]', summary: 'coins for offline messages' },
  requests: {
    usage: 'p2pcomm requests [list|accept|block|delete] [<id>] [--json]',
    summary: 'first messages from people not in your contacts',
  },
  settings: {
    usage: 'p2pcomm settings [get [--json] | set <key> <value...>]',
    summary: 'show or change the settings',
    details:
      'Keys: network (local | testnet-10 | mainnet), node <ws-url...>, ice <server...>\n' +
      '("stun:host:port" or "turn:host:port user secret", one argument each), batching on|off,\n' +
      'read-receipts on|off, p2p-only on|off.',
  },
  backup: {
    usage: 'p2pcomm backup export <file> | backup import <file>',
    summary: 'write or read an encrypted backup file',
    details:
      'export writes the whole profile, encrypted (docs/protocol.md "Backup file"), mode 0600.\n' +
      'import replaces this profile by the file, unlocked with the password it was made under.',
  },
};

export const GLOBAL_HELP = `p2pcomm: end-to-end-encrypted messages, direct when both are online, through Kaspa when not.

Usage: p2pcomm <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join('\n')}

Options for every command:
  --data DIR            profile directory (default $XDG_DATA_HOME/p2pcomm or ~/.local/share/p2pcomm)
  --password-file FILE  read the password from the first line of FILE (else P2PCOMM_PASSWORD, else a prompt)
  --node URL            node of the local network for a new profile (ws://127.0.0.1:PORT)
  --faucet URL          local network faucet (http://127.0.0.1:PORT/devnet/fund) for a new identity
  --host-address IP     also offer IP for direct links (e.g. 127.0.0.1 when both ends share a machine)
  --json                machine-readable output of read commands
  --quiet               no progress lines on the terminal
  -h, --help            help (also per command: p2pcomm send --help)

Exit codes: 0 ok, 1 usage, 2 not found, 3 profile in use, 4 network, 5 wrong password,
6 input refused, 7 not delivered, 10 internal error.`;

/** The `--help` text of `command`. */
export function commandHelp(command: string): string | undefined {
  const c = COMMANDS[command];
  if (c === undefined) return undefined;
  return `Usage: ${c.usage}\n\n${c.summary[0]?.toUpperCase()}${c.summary.slice(1)}.${c.details === undefined ? '' : `\n\n${c.details}`}\n\nSee p2pcomm --help for the options of every command and the exit codes.`;
}
