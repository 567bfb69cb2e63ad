/**
 * `p2pcomm`, the command-line client: each command opens the profile (one process at a time,
 * src/api/node-platform.ts), unlocks it, does its work over the same engine as the web app
 * (src/api/messenger.ts) and closes it again. `--help` lists the commands; docs/api.md has
 * the manual, the JSON shapes and the exit codes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Messenger } from '../api/messenger.ts';
import type {
  ActionOptions,
  AppSettings,
  ChatMessage,
  ContactSummary,
  DeliveryBalance,
  MessengerEvent,
  NetworkId,
  SendWait,
} from '../api/index.ts';
import { RECOVERY_KEY_WORDS } from '../core/identity/recovery-key.ts';
import { AppApiError, NETWORK_IDS } from '../web/app-api.ts';
import {
  connectionWords,
  explorerTxUrl,
  formatKas,
  networkStateShort,
  parseIceServers,
  parseNodeUrls,
  statusTicks,
  statusWords,
} from '../web/format.ts';
import { intOf, parseArgs, valueOf, type Args } from './args.ts';
import { CliError, EXIT, errorWords, exitCodeOf, type ExitCode } from './exit.ts';
import { COMMANDS, GLOBAL_HELP, commandHelp } from './help.ts';
import { promptHidden, promptLine, terminalQr } from './terminal.ts';

/** Default bound on waiting for messages to leave (send, chat's end), in seconds. */
const DEFAULT_TIMEOUT_S = 120;

/** Where output goes; stdout carries the result, stderr the words for people. */
const out = (line: string): void => {
  process.stdout.write(line + '\n');
};
const err = (line: string): void => {
  process.stderr.write(line + '\n');
};

/** JSON with bigints as decimal strings (sompi amounts, DAA scores). */
function json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Progress for people: on a terminal only, and not with --quiet or --json. */
function progress(args: Args): (line: string) => void {
  const on = process.stderr.isTTY && !args.flags.has('quiet') && !args.flags.has('json');
  return (line) => {
    if (on) process.stderr.write(`\r\u001b[2K${line}`);
  };
}

function endProgress(args: Args): void {
  if (process.stderr.isTTY && !args.flags.has('quiet') && !args.flags.has('json'))
    process.stderr.write('\r\u001b[2K');
}

/** The password: --password-file, else P2PCOMM_PASSWORD, else a prompt on a terminal. */
async function password(args: Args, confirm = false): Promise<string> {
  const file = valueOf(args, 'password-file');
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new CliError('USAGE', `Cannot read the password file ${file}`, { cause: e });
    }
    return text.split(/\r?\n/)[0] ?? '';
  }
  const env = process.env['P2PCOMM_PASSWORD'];
  if (env !== undefined) return env;
  if (!process.stdin.isTTY)
    throw new CliError(
      'NO_PASSWORD',
      'No password: give --password-file FILE or set P2PCOMM_PASSWORD (or run on a terminal)',
    );
  const first = await promptHidden('Password: ');
  if (confirm && (await promptHidden('Repeat password: ')) !== first)
    throw new CliError('USAGE', 'The passwords differ');
  return first;
}

async function openMessenger(args: Args): Promise<Messenger> {
  const data = valueOf(args, 'data');
  const node = valueOf(args, 'node');
  const faucet = valueOf(args, 'faucet');
  const hosts = args.values.get('host-address');
  return Messenger.open({
    ...(data === undefined ? {} : { dataDir: data }),
    ...(node === undefined ? {} : { nodeUrl: node }),
    ...(faucet === undefined ? {} : { faucetUrl: faucet }),
    ...(hosts === undefined ? {} : { hostAddresses: hosts }),
    // Background failures (a node that went away) are the engine's to retry; a terminal
    // user is told in words, a script is not disturbed.
    onError: (e) => {
      if (process.stderr.isTTY && !args.flags.has('quiet')) err(`(${errorWords(e)})`);
    },
  });
}

/** Opens and unlocks the profile, with a progress line while messages are caught up. */
async function unlocked(args: Args): Promise<Messenger> {
  const m = await openMessenger(args);
  try {
    const state = m.state;
    if (state.kind === 'empty')
      throw new CliError('NOT_FOUND', `No identity in ${m.dataDir}: run p2pcomm init first`);
    const pw = await password(args);
    const say = progress(args);
    let caught = 0;
    const stop = m.on((e) => {
      if (e.type === 'message' && !e.message.outgoing) say(`Catching up: ${++caught} new messages`);
    });
    say('Unlocking...');
    try {
      await m.unlock(pw);
    } finally {
      stop();
      endProgress(args);
    }
    return m;
  } catch (e) {
    await m.close();
    throw e;
  }
}

/** Runs `use` on the profile `opened` yields (openMessenger, unlocked) and closes it, whatever happens. */
async function withProfile(opened: Promise<Messenger>, use: (m: Messenger) => Promise<void>): Promise<void> {
  const m = await opened;
  try {
    await use(m);
  } finally {
    await m.close();
  }
}

/** How long `init` waits for the node to record the profile's first chain position, in seconds. */
const INIT_NODE_WAIT_S = 10;

/** How long commands that need the node wait for it when --timeout is not given, in seconds. */
const NODE_WAIT_S = 30;

/**
 * Waits until the node answers: the commands that need it (balance, proofs, a send that
 * waits) would otherwise wait for as long as it stays away. TIMEOUT (exit 4) after the bound.
 */
async function online(m: Messenger, args: Args): Promise<void> {
  if (m.network === 'online') return;
  const timeoutS = intOf(args, 'timeout', NODE_WAIT_S, 1);
  const say = progress(args);
  say('Connecting to the Kaspa node...');
  const reached = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), timeoutS * 1000);
    const stop = m.on((e) => {
      if (e.type === 'network' && e.state === 'online') done(true);
    });
    function done(ok: boolean): void {
      clearTimeout(timer);
      stop();
      resolve(ok);
    }
    if (m.network === 'online') done(true);
  });
  endProgress(args);
  if (!reached) {
    const s = await m.settings();
    throw new CliError(
      'TIMEOUT',
      `Cannot reach the Kaspa node (${s.nodeUrls.join(', ')}) within ${timeoutS} s: is it running? (p2pcomm settings set node URL)`,
    );
  }
}

/**
 * Waits (bounded) for the catch-up with the chain before a read: what arrived while no
 * p2pcomm ran is shown too. Without the node, the stored conversation is shown, with a note.
 */
async function caughtUp(m: Messenger, args: Args): Promise<void> {
  const timeoutS = intOf(args, 'timeout', NODE_WAIT_S, 1);
  const say = progress(args);
  say('Checking for new messages...');
  try {
    await m.sync({ signal: AbortSignal.timeout(timeoutS * 1000) });
  } catch (e) {
    if (!(e instanceof DOMException && e.name === 'TimeoutError')) throw e;
    endProgress(args);
    err(`(Cannot reach the Kaspa node within ${timeoutS} s: showing what is stored here.)`);
    return;
  }
  endProgress(args);
}

function need(args: Args, index: number, what: string, command: string): string {
  const v = args.positional[index];
  if (v === undefined || v === '')
    throw new CliError('USAGE', `Missing ${what}: ${COMMANDS[command]?.usage}`);
  return v;
}

function noMore(args: Args, count: number, command: string): void {
  if (args.positional.length > count)
    throw new CliError('USAGE', `Too many arguments: ${COMMANDS[command]?.usage}`);
}

function contactLine(c: ContactSummary): string {
  const marks = [c.verified ? 'verified' : '', c.keyWarning === undefined ? '' : 'KEY WARNING']
    .filter((x) => x !== '')
    .join(', ');
  return `${c.displayName}  ${c.fingerprint}  ${connectionWords(c.connection)}${marks === '' ? '' : `  (${marks})`}  ${c.id}`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
function when(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

function messageLine(m: ChatMessage, name: string): string {
  const who = m.outgoing ? 'you' : name;
  const route = m.route === undefined ? '' : m.route === 'direct' ? ' direct' : ' secure';
  // Folded as the app shows it (core/messages/fold.ts): the quote, forward, edit, deletion, reactions.
  const q = m.replyTo;
  const quote =
    q === undefined
      ? ''
      : !q.held
        ? '(reply to a message not held here) '
        : q.deleted
          ? '(reply to a deleted message) '
          : `(reply to ${q.outgoing ? 'you' : name}: "${q.text}") `;
  const text = m.deleted
    ? '(deleted)'
    : `${m.forwarded ? '(forwarded) ' : ''}${m.text}${m.edited ? ' (edited)' : ''}`;
  const reactions = (m.reactions ?? []).map((r) => `${r.emoji}${r.count > 1 ? ` ${r.count}` : ''}`).join(' ');
  return `[${when(m.sentAt)}] ${who}: ${quote}${text}${reactions === '' ? '' : `  [${reactions}]`}  ${m.outgoing ? statusTicks(m.status) : ''}${route}${m.hasProof ? ' (proof)' : ''}  ${m.id}`;
}

function balanceLines(b: DeliveryBalance): string[] {
  return [
    `Spendable: ${formatKas(b.spendable)}`,
    `Held in messages waiting: ${formatKas(b.lockedInPending)}`,
    `Cost per offline message: ${formatKas(b.costPerMessage)}`,
    `Offline messages left: ${b.messagesLeft}`,
    `Messages waiting: ${b.pendingMessages}`,
    `Direct only: ${b.p2pOnly ? 'on' : 'off'}`,
    ...(b.topUpUrl === undefined ? [] : [`Add funds: ${b.topUpUrl}`]),
  ];
}

function settingsLines(s: AppSettings): string[] {
  return [
    `network        ${s.network}`,
    `node           ${s.nodeUrls.join(' ')}`,
    `ice            ${s.iceServers.map((i) => (i.username === undefined ? i.urls : `${i.urls} ${i.username} ***`)).join(', ') || '(none)'}`,
    `batching       ${s.batching ? 'on' : 'off'}`,
    `read-receipts  ${s.readReceipts ? 'on' : 'off'}`,
  ];
}

function onOff(value: string | undefined, key: string): boolean {
  if (value === 'on' || value === 'true') return true;
  if (value === 'off' || value === 'false') return false;
  throw new CliError('USAGE', `${key} expects on or off`);
}

/** A JSON line for `listen` from an engine event, with the contact's name; undefined for internal ones. */
function eventRecord(e: MessengerEvent, names: ReadonlyMap<string, string>): object | undefined {
  switch (e.type) {
    case 'message':
      return { type: 'message', contactName: names.get(e.message.contactId) ?? null, ...e.message };
    case 'connection':
      return {
        type: 'connection',
        contactId: e.contactId,
        contactName: names.get(e.contactId) ?? null,
        state: e.state,
      };
    case 'network':
      return { type: 'network', state: e.state };
    case 'balance':
      return { type: 'balance', ...e.balance };
    case 'requests':
      return { type: 'requests' };
    default:
      return undefined;
  }
}

// --- commands --------------------------------------------------------------------------------

async function cmdInit(args: Args): Promise<void> {
  noMore(args, 0, 'init');
  await withProfile(openMessenger(args), async (m) => {
    if (m.state.kind !== 'empty')
      throw new AppApiError(
        'IDENTITY_EXISTS',
        `${m.dataDir} already holds an identity (restore or backup import replace it)`,
      );
    const name =
      valueOf(args, 'name') ?? (process.stdin.isTTY ? await promptLine('Your name: ') : undefined) ?? '';
    if (name.trim() === '') throw new CliError('USAGE', 'A name is needed: --name NAME');
    const created = await m.create(name, await password(args, true));
    const link = await m.card();
    // The card is out from now on: wait (briefly) for the node so that the profile keeps a
    // chain position from before anyone can answer it. Without one, the first catch-up has to
    // scan from the node's pruning point (core/delivery/kaspa-chain.ts `start`).
    const say = progress(args);
    say('Connecting to the Kaspa node...');
    await m.sync({ signal: AbortSignal.timeout(INIT_NODE_WAIT_S * 1000) }).catch(() => undefined);
    endProgress(args);
    if (args.flags.has('json')) {
      out(json({ ...created.identity, recoveryWords: created.recoveryWords, link }));
      return;
    }
    out(`Created ${created.identity.displayName} (${created.identity.fingerprint}) in ${m.dataDir}`);
    out('');
    out(
      `Recovery key: write these ${RECOVERY_KEY_WORDS} words down and keep them safe. They are the only way`,
    );
    out('back into this identity if the password is lost, and anyone who has them is you.');
    out('');
    out(created.recoveryWords.map((w, i) => `${String(i + 1).padStart(2)}. ${w}`).join('\n'));
  });
}

async function cmdRestore(args: Args): Promise<void> {
  noMore(args, 0, 'restore');
  const name = valueOf(args, 'name');
  if (name === undefined) throw new CliError('USAGE', `Missing --name: ${COMMANDS['restore']?.usage}`);
  let words: string;
  if (process.stdin.isTTY) words = await promptHidden(`Recovery key (${RECOVERY_KEY_WORDS} words): `);
  // A recovery key is a few hundred characters: anything far beyond the bound is not one.
  else words = (await readStdinText('a recovery key')).trim().replace(/\s+/g, ' ');
  const pw = await password(args, true);
  await withProfile(openMessenger(args), async (m) => {
    const who = await m.restore(words, name, pw);
    if (args.flags.has('json')) out(json(who));
    else out(`Restored ${who.displayName} (${who.fingerprint}) in ${m.dataDir}`);
  });
}

async function cmdCard(args: Args): Promise<void> {
  noMore(args, 0, 'card');
  await withProfile(unlocked(args), async (m) => {
    const link = await m.card();
    const state = m.state;
    const me = state.kind === 'unlocked' ? state.identity : undefined;
    if (args.flags.has('json')) {
      out(json({ ...me, link }));
      return;
    }
    out(link);
    if (!process.stdout.isTTY || args.flags.has('no-qr')) return;
    const qr = terminalQr(link);
    const width = qr[0]?.length ?? 0;
    if ((process.stdout.columns ?? 80) < width) {
      err(
        `(The QR code needs a terminal ${width} columns wide; this one has ${process.stdout.columns ?? '?'}.)`,
      );
      return;
    }
    out('');
    for (const line of qr) out(line);
    if (me !== undefined) out(`\n${me.displayName}  ${me.fingerprint}`);
  });
}

async function cmdAdd(args: Args): Promise<void> {
  const link = need(args, 0, 'the invite link', 'add');
  noMore(args, 1, 'add');
  await withProfile(unlocked(args), async (m) => {
    const c = await m.addContact(link);
    if (args.flags.has('json')) out(json(c));
    else out(`Added ${c.displayName} (${c.fingerprint})  ${c.id}`);
  });
}

async function cmdContacts(args: Args): Promise<void> {
  noMore(args, 0, 'contacts');
  await withProfile(unlocked(args), async (m) => {
    await caughtUp(m, args);
    const all = await m.contacts();
    if (args.flags.has('json')) out(json(all));
    else if (all.length === 0) out('No contacts yet: share `p2pcomm card`, or `p2pcomm add <link>`.');
    else for (const c of all) out(contactLine(c));
  });
}

/** Standard input as text, without its last line break; USAGE beyond 64 KiB (`what` it was to be). */
async function readStdinText(what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 64 * 1024) throw new CliError('USAGE', `Standard input is too long for ${what}`);
    chunks.push(c);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function waitOf(args: Args): SendWait {
  const w = valueOf(args, 'wait') ?? 'sent';
  if (w !== 'queued' && w !== 'sent' && w !== 'delivered')
    throw new CliError('USAGE', '--wait expects queued, sent or delivered');
  return w;
}

async function cmdSend(args: Args): Promise<void> {
  const ref = need(args, 0, 'the contact', 'send');
  need(args, 1, 'the text', 'send');
  const wait = waitOf(args);
  const timeoutS = intOf(args, 'timeout', DEFAULT_TIMEOUT_S, 1);
  let text = args.positional.slice(1).join(' ');
  if (text === '-') text = await readStdinText('a message');
  await withProfile(unlocked(args), async (m) => {
    // The contact must exist before anything waits for the network.
    await m.contact(ref);
    if (wait !== 'queued') await online(m, args);
    const say = progress(args);
    say(wait === 'queued' ? 'Sending...' : `Sending (waiting until ${wait})...`);
    let sent: ChatMessage;
    try {
      sent = await m.send(ref, text, { wait, signal: AbortSignal.timeout(timeoutS * 1000) });
    } catch (e) {
      if (e instanceof DOMException && e.name === 'TimeoutError')
        throw new CliError(
          'TIMEOUT',
          `The message did not leave within ${timeoutS} s (network: ${networkStateShort(m.network)}); it stays queued and goes out the next time p2pcomm runs`,
        );
      throw e;
    } finally {
      endProgress(args);
    }
    if (args.flags.has('json')) out(json(sent));
    else out(sent.id);
    if (sent.status === 'failed')
      throw new CliError('UNDELIVERED', 'The message could not be delivered (see p2pcomm balance)');
  });
}

/** `--wait` of a message action: queued or sent (default). */
function actionWaitOf(args: Args): 'queued' | 'sent' {
  const w = valueOf(args, 'wait') ?? 'sent';
  if (w !== 'queued' && w !== 'sent') throw new CliError('USAGE', '--wait expects queued or sent');
  return w;
}

/**
 * Runs one message action on the unlocked profile, waiting (bounded by --timeout) until it
 * left when --wait is sent, and prints its result: the message as now shown (folded: quote,
 * reactions, edited, deleted), JSON with --json.
 */
async function runAction(
  args: Args,
  act: (m: Messenger, options: ActionOptions) => Promise<ChatMessage | readonly ChatMessage[]>,
): Promise<void> {
  const wait = actionWaitOf(args);
  const timeoutS = intOf(args, 'timeout', DEFAULT_TIMEOUT_S, 1);
  await withProfile(unlocked(args), async (m) => {
    if (wait === 'sent') await online(m, args);
    let result: ChatMessage | readonly ChatMessage[];
    try {
      result = await act(m, { wait, signal: AbortSignal.timeout(timeoutS * 1000) });
    } catch (e) {
      if (e instanceof DOMException && e.name === 'TimeoutError')
        throw new CliError(
          'TIMEOUT',
          `It did not leave within ${timeoutS} s (network: ${networkStateShort(m.network)}); it stays queued and goes out the next time p2pcomm runs`,
        );
      throw e;
    }
    const list = Array.isArray(result) ? result : [result as ChatMessage];
    if (args.flags.has('json')) out(json(result));
    else
      for (const msg of list) {
        const c = await m.contact(msg.contactId);
        out(messageLine(msg, c.displayName));
      }
  });
}

/** `reply <contact> <message-id> <text...>` */
async function cmdReply(args: Args): Promise<void> {
  const ref = need(args, 0, 'the contact', 'reply');
  const target = need(args, 1, 'the message id', 'reply');
  need(args, 2, 'the text', 'reply');
  let text = args.positional.slice(2).join(' ');
  if (text === '-') text = await readStdinText('a reply');
  await runAction(args, (m, o) => m.reply(ref, text, target, o));
}

/** `react <message-id> <emoji|none>` */
async function cmdReact(args: Args): Promise<void> {
  const target = need(args, 0, 'the message id', 'react');
  const emoji = need(args, 1, 'the reaction', 'react');
  noMore(args, 2, 'react');
  await runAction(args, (m, o) => m.react(target, emoji === 'none' ? null : emoji, o));
}

/** `edit <message-id> <text...>` */
async function cmdEdit(args: Args): Promise<void> {
  const target = need(args, 0, 'the message id', 'edit');
  need(args, 1, 'the text', 'edit');
  let text = args.positional.slice(1).join(' ');
  if (text === '-') text = await readStdinText('the new text');
  await runAction(args, (m, o) => m.edit(target, text, o));
}

/** `delete <message-id> --everyone | --for-me` */
async function cmdDelete(args: Args): Promise<void> {
  const target = need(args, 0, 'the message id', 'delete');
  noMore(args, 1, 'delete');
  const everyone = args.flags.has('everyone');
  const forMe = args.flags.has('for-me');
  if (everyone === forMe)
    throw new CliError('USAGE', `Say whom for, --everyone or --for-me: ${COMMANDS['delete']?.usage}`);
  if (everyone) {
    await runAction(args, (m, o) => m.deleteForEveryone(target, o));
    return;
  }
  await withProfile(unlocked(args), async (m) => {
    await m.deleteForMe(target);
    if (args.flags.has('json')) out(json({ removed: target }));
    else out(`Removed from this device: ${target}`);
  });
}

/** `forward <message-id> <contact...>` */
async function cmdForward(args: Args): Promise<void> {
  const target = need(args, 0, 'the message id', 'forward');
  need(args, 1, 'a contact', 'forward');
  const to = args.positional.slice(1);
  await runAction(args, (m, o) => m.forward(target, to, o));
}

async function cmdHistory(args: Args): Promise<void> {
  const ref = need(args, 0, 'the contact', 'history');
  noMore(args, 1, 'history');
  const limit = args.values.has('limit') ? intOf(args, 'limit', 0) : undefined;
  await withProfile(unlocked(args), async (m) => {
    const c = await m.contact(ref);
    await caughtUp(m, args);
    const all = await m.messages(c.id, limit === undefined ? {} : { limit });
    if (args.flags.has('json')) out(json(all));
    else for (const msg of all) out(messageLine(msg, c.displayName));
  });
}

async function cmdProof(args: Args): Promise<void> {
  const id = need(args, 0, 'the message id', 'proof');
  noMore(args, 1, 'proof');
  await withProfile(unlocked(args), async (m) => {
    await online(m, args);
    const p = await m.proof(id);
    if (p === null)
      throw new CliError(
        'NOT_FOUND',
        'This message has no chain proof: it went directly, or is not published yet',
      );
    if (args.flags.has('json')) {
      out(json(p));
      return;
    }
    out(`Transaction: ${p.txId}`);
    out(`Network: ${p.network}`);
    out(`Accepted in block: ${p.acceptingBlockHash ?? 'not yet accepted'}`);
    out(`DAA score: ${p.acceptingDaaScore?.toString() ?? '-'}`);
    out(`Confirmations: ${p.confirmations}`);
    out(`Recipient receipt: ${p.receiptReceived ? 'received' : 'not yet'}`);
    const url = explorerTxUrl(p.network, p.txId);
    if (url !== undefined) out(`Explorer: ${url}`);
  });
}

async function cmdBalance(args: Args): Promise<void> {
  noMore(args, 0, 'balance');
  await withProfile(unlocked(args), async (m) => {
    await online(m, args);
    const b = await m.balance();
    if (args.flags.has('json')) out(json(b));
    else for (const l of balanceLines(b)) out(l);
  });
}

async function cmdRequests(args: Args): Promise<void> {
  const action = args.positional[0] ?? 'list';
  await withProfile(unlocked(args), async (m) => {
    switch (action) {
      case 'list': {
        noMore(args, 1, 'requests');
        await caughtUp(m, args);
        const all = await m.requests();
        if (args.flags.has('json')) out(json(all));
        else if (all.length === 0) out('No message requests.');
        else
          for (const r of all) {
            out(`${r.displayName}  ${r.fingerprint}  ${r.id}`);
            for (const msg of r.messages) out(`  [${when(msg.sentAt)}] ${msg.text}`);
          }
        return;
      }
      case 'accept': {
        const id = need(args, 1, 'the request id', 'requests');
        noMore(args, 2, 'requests');
        await online(m, args);
        const c = await m.acceptRequest(id);
        if (args.flags.has('json')) out(json(c));
        else out(`Accepted ${c.displayName}: now a contact`);
        return;
      }
      case 'block':
      case 'delete': {
        const id = need(args, 1, 'the request id', 'requests');
        noMore(args, 2, 'requests');
        if (action === 'block') await m.blockRequest(id);
        else await m.deleteRequest(id);
        out(action === 'block' ? 'Blocked' : 'Deleted');
        return;
      }
      default:
        throw new CliError('USAGE', `Unknown requests action ${action}: ${COMMANDS['requests']?.usage}`);
    }
  });
}

async function cmdSettings(args: Args): Promise<void> {
  const action = args.positional[0] ?? 'get';
  if (action !== 'get' && action !== 'set')
    throw new CliError('USAGE', `Unknown settings action ${action}: ${COMMANDS['settings']?.usage}`);
  let patch: Partial<AppSettings> | undefined;
  let p2pOnly: boolean | undefined;
  if (action === 'set') {
    const key = need(args, 1, 'the key', 'settings');
    const values = args.positional.slice(2);
    try {
      switch (key) {
        case 'network':
          if (values.length !== 1 || !NETWORK_IDS.includes(values[0] as NetworkId))
            throw new CliError('USAGE', `network expects one of ${NETWORK_IDS.join(', ')}`);
          patch = { network: values[0] as NetworkId };
          break;
        case 'node':
          patch = { nodeUrls: parseNodeUrls(values.join('\n')) };
          break;
        case 'ice':
          patch = { iceServers: parseIceServers(values.join('\n')) };
          break;
        case 'batching':
          patch = { batching: onOff(values[0], key) };
          break;
        case 'read-receipts':
          patch = { readReceipts: onOff(values[0], key) };
          break;
        case 'p2p-only':
          p2pOnly = onOff(values[0], key);
          break;
        default:
          throw new CliError('USAGE', `Unknown setting ${key}: ${COMMANDS['settings']?.details ?? ''}`);
      }
    } catch (e) {
      if (e instanceof RangeError) throw new CliError('USAGE', `${key}: ${e.message}`, { cause: e });
      throw e;
    }
  } else noMore(args, 1, 'settings');
  await withProfile(unlocked(args), async (m) => {
    if (patch !== undefined) await m.updateSettings(patch);
    if (p2pOnly !== undefined) {
      await online(m, args);
      await m.setP2pOnly(p2pOnly);
    }
    const s = await m.settings();
    const b = p2pOnly === undefined ? undefined : await m.balance();
    if (args.flags.has('json')) out(json({ ...s, ...(b === undefined ? {} : { p2pOnly: b.p2pOnly }) }));
    else for (const l of settingsLines(s)) out(l);
  });
}

async function cmdBackup(args: Args): Promise<void> {
  const action = need(args, 0, 'export or import', 'backup');
  const file = need(args, 1, 'the file', 'backup');
  noMore(args, 2, 'backup');
  if (action === 'export') {
    await withProfile(unlocked(args), async (m) => {
      const bytes = await m.exportBackup();
      await writeFile(file, bytes, { mode: 0o600 });
      out(`Backup written to ${file} (${bytes.length} bytes)`);
    });
    return;
  }
  if (action !== 'import')
    throw new CliError('USAGE', `backup expects export or import: ${COMMANDS['backup']?.usage}`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new CliError('NOT_FOUND', `Cannot read ${file}`, { cause: e });
  }
  const pw = await password(args);
  await withProfile(openMessenger(args), async (m) => {
    const who = await m.importBackup(bytes, pw);
    if (args.flags.has('json')) out(json(who));
    else out(`Imported ${who.displayName} (${who.fingerprint}) into ${m.dataDir}`);
  });
}

/** Contact names by id, kept current on `conversations` events. */
async function nameBook(m: Messenger): Promise<{ names: Map<string, string>; stop(): void }> {
  const names = new Map<string, string>();
  const refresh = async (): Promise<void> => {
    for (const c of await m.contacts()) names.set(c.id, c.displayName);
  };
  await refresh();
  const stop = m.on((e) => {
    if (e.type === 'conversations') refresh().catch(() => undefined);
  });
  return { names, stop };
}

/** Resolves when SIGINT or SIGTERM arrives (the command then closes the profile cleanly). */
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

async function cmdListen(args: Args): Promise<void> {
  noMore(args, 0, 'listen');
  await withProfile(unlocked(args), async (m) => {
    const { names, stop } = await nameBook(m);
    const state = m.state;
    const stopped = new AbortController();
    void interrupted().then(() => stopped.abort());
    const events = m.events({ signal: stopped.signal });
    out(
      json({
        type: 'ready',
        ...(state.kind === 'unlocked' ? state.identity : {}),
        network: m.network,
        contacts: (await m.contacts()).map((c) => ({
          id: c.id,
          displayName: c.displayName,
          connection: c.connection,
        })),
      }),
    );
    for await (const e of events) {
      const record = eventRecord(e, names);
      if (record !== undefined) out(json(record));
    }
    stop();
  });
}

async function cmdChat(args: Args): Promise<void> {
  const ref = need(args, 0, 'the contact', 'chat');
  noMore(args, 1, 'chat');
  const timeoutS = intOf(args, 'timeout', DEFAULT_TIMEOUT_S, 1);
  const m = await unlocked(args);
  const tty = process.stdin.isTTY && process.stdout.isTTY;
  try {
    const c = await m.contact(ref);
    await caughtUp(m, args);
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
    const promptText = (): string => `[${connectionWords(connection).split(' - ')[0]}] > `;
    let connection = c.connection;
    const show = (line: string): void => {
      if (tty) {
        process.stdout.write('\r\u001b[2K');
        out(line);
        rl.setPrompt(promptText());
        rl.prompt(true);
      } else out(line);
    };
    for (const msg of await m.messages(c.id, { limit: 20 })) out(messageLine(msg, c.displayName));
    out(`* ${c.displayName}: ${connectionWords(connection)}`);
    out(`* network: ${networkStateShort(m.network)}`);
    await m.markRead(c.id).catch(() => undefined);
    /** Our messages of this session, by id, with the status last shown. */
    const mine = new Map<string, ChatMessage>();
    const stop = m.on((e) => {
      if (e.type === 'message' && e.message.contactId === c.id) {
        const msg = e.message;
        if (msg.outgoing) {
          const before = mine.get(msg.id);
          if (before !== undefined && before.status === msg.status && before.route === msg.route) return;
          mine.set(msg.id, msg);
          show(`${messageLine(msg, c.displayName)}  ${statusWords(msg.status)}`);
        } else {
          show(messageLine(msg, c.displayName));
          m.markRead(c.id).catch(() => undefined);
        }
      } else if (e.type === 'connection' && e.contactId === c.id) {
        if (e.state === connection) return;
        connection = e.state;
        show(`* ${c.displayName}: ${connectionWords(e.state)}`);
      } else if (e.type === 'network') show(`* network: ${networkStateShort(e.state)}`);
    });
    let sending = Promise.resolve();
    const finished = new Promise<void>((resolve) => {
      rl.on('line', (line) => {
        const text = line.trim();
        if (text === '/quit') {
          rl.close();
          return;
        }
        if (text === '') {
          if (tty) rl.prompt();
          return;
        }
        // In order, one after another, as typed.
        sending = sending.then(async () => {
          try {
            const msg = await m.send(c.id, text);
            if (!mine.has(msg.id)) {
              mine.set(msg.id, msg);
              show(`${messageLine(msg, c.displayName)}  ${statusWords(msg.status)}`);
            }
          } catch (e) {
            show(`! ${errorWords(e)}`);
          }
        });
      });
      rl.on('close', () => resolve());
      void interrupted().then(() => rl.close());
    });
    if (tty) {
      rl.setPrompt(promptText());
      rl.prompt();
    }
    await finished;
    await sending;
    // What is still sending goes out before the profile closes (bounded: it is stored anyway).
    const deadline = Date.now() + timeoutS * 1000;
    while ([...mine.values()].some((x) => x.status === 'sending') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    stop();
    if ([...mine.values()].some((x) => x.status === 'sending'))
      throw new CliError(
        'TIMEOUT',
        'Some messages have not left yet: they go out the next time p2pcomm runs',
      );
  } finally {
    await m.close();
  }
}

const HANDLERS: Readonly<Record<string, (args: Args) => Promise<void>>> = {
  init: cmdInit,
  restore: cmdRestore,
  card: cmdCard,
  add: cmdAdd,
  contacts: cmdContacts,
  send: cmdSend,
  reply: cmdReply,
  react: cmdReact,
  edit: cmdEdit,
  delete: cmdDelete,
  forward: cmdForward,
  chat: cmdChat,
  listen: cmdListen,
  history: cmdHistory,
  proof: cmdProof,
  balance: cmdBalance,
  requests: cmdRequests,
  settings: cmdSettings,
  backup: cmdBackup,
};

/** Runs one command line; returns the exit code (docs/api.md "Exit codes"). */
export async function run(argv: readonly string[]): Promise<ExitCode> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    err(`p2pcomm: ${errorWords(e)}`);
    return exitCodeOf(e);
  }
  const [command, ...rest] = args.positional;
  if (command === undefined || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    out((topic === undefined ? undefined : commandHelp(topic)) ?? GLOBAL_HELP);
    return command === undefined && !args.flags.has('help') ? EXIT.USAGE : EXIT.OK;
  }
  const handler = HANDLERS[command];
  if (handler === undefined) {
    err(`p2pcomm: unknown command ${command} (p2pcomm --help lists them)`);
    return EXIT.USAGE;
  }
  if (args.flags.has('help')) {
    out(commandHelp(command) ?? GLOBAL_HELP);
    return EXIT.OK;
  }
  try {
    await handler({ ...args, positional: rest });
    return EXIT.OK;
  } catch (e) {
    const code = exitCodeOf(e);
    err(`p2pcomm ${command}: ${errorWords(e)}`);
    if (code === EXIT.USAGE && e instanceof CliError && e.code === 'USAGE')
      err(`(p2pcomm ${command} --help)`);
    return code;
  }
}
