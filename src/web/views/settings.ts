/**
 * Settings: cheaper batching, read receipts, the network, notifications and backup export/
 * import in plain words first; under "Advanced", for those who run their own node or sit
 * behind a strict network: the nodes in use (synced or not, the last block seen) with a "use
 * only my own node" switch, node addresses and ICE servers (NOTES §4).
 */
import { NETWORK_IDS, type AppSettings, type NetworkId, type NodeLine, type NodeView } from '../app-api.ts';
import { downloadFile, errorText, field, h } from '../dom.ts';
import {
  SettingsInputError,
  formatIceServers,
  networkStateWords,
  networkWords,
  parseIceServers,
  parseNodeUrls,
} from '../format.ts';
import { backupImportForm } from './backup.ts';
import type { View, ViewContext } from './view.ts';

/** How often the node lines are read again while Settings is open (the last block moves on). */
const NODE_REFRESH_MS = 1_000;

/** One node in words. */
function nodeWords(n: NodeLine, view: NodeView): string {
  switch (n.state) {
    case 'up':
      return n.url === view.current ? 'in use, synced' : 'standing by, synced';
    case 'syncing':
      return 'answers, not synced with the network yet';
    case 'down':
      return 'unreachable';
    case 'refused':
      return 'refused (another network)';
    case 'connecting':
      return 'connecting';
  }
}

/** The settings screen. */
export function settingsView(ctx: ViewContext): View {
  const network = h('select', {}, ...NETWORK_IDS.map((n) => h('option', { value: n }, networkWords(n))));
  const nodes = h('textarea', { rows: 3, spellcheck: false, class: 'mono', autocomplete: 'off' });
  const ice = h('textarea', { rows: 3, spellcheck: false, class: 'mono', autocomplete: 'off' });
  const batching = h('input', { type: 'checkbox', id: 'set-batching' });
  const receipts = h('input', { type: 'checkbox', id: 'set-receipts' });
  const networkF = field('Network', network);
  const nodesF = field('Node addresses', nodes, 'One ws:// or wss:// address per line, tried in order.');
  const iceF = field(
    'Connection helpers (ICE servers)',
    ice,
    'One per line: "stun:host:port" or "turn:host:port user secret". Leave empty when both devices share a local network.',
  );
  const saved = h('p', { class: 'hint', role: 'status' });
  const reach = h('p', { class: 'net-state', role: 'status' });
  const renderReach = (): void => {
    const state = ctx.api.networkState();
    reach.textContent = networkStateWords(state);
    reach.dataset['state'] = state;
  };
  renderReach();
  // Which node, synced or not, and the last block seen (NodeView), for those who check.
  const nodeList = h('ul', { class: 'node-list', 'aria-label': 'Nodes' });
  const lastBlock = h('p', { class: 'hint node-last' });
  const ownOnly = h('input', { type: 'checkbox', role: 'switch', id: 'set-own-node' });
  const ownOnlyHint = h('p', { class: 'hint', id: 'set-own-node-hint' });
  ownOnly.setAttribute('aria-describedby', ownOnlyHint.id);
  let nodeText = '';
  let publicNow: readonly string[] = [];
  let asking = false;
  const renderNodes = (): void => {
    if (asking) return;
    asking = true;
    ctx.api
      .nodeView()
      .then(showNodes, () => undefined)
      .finally(() => (asking = false));
  };
  const showNodes = (v: NodeView): void => {
    publicNow = v.publicNodeUrls;
    const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    if (text === nodeText) return;
    nodeText = text;
    nodeList.replaceChildren(
      ...v.nodes.map((n) =>
        h('li', { 'data-state': n.state }, h('span', { class: 'mono' }, n.url), ` \u2014 ${nodeWords(n, v)}`),
      ),
    );
    lastBlock.textContent =
      v.lastDaaScore === undefined
        ? 'No block seen yet.'
        : `Last block seen: DAA score ${v.lastDaaScore.toLocaleString('en-US')}${v.synced ? '' : ' (node not synced)'}.`;
    const publicUrls = v.publicNodeUrls;
    ownOnly.disabled = publicUrls.length === 0;
    ownOnly.checked = publicUrls.length === 0 || !v.nodes.some((n) => publicUrls.includes(n.url));
    ownOnlyHint.textContent =
      publicUrls.length === 0
        ? 'This network has no public nodes in the list: only the addresses below are used.'
        : ownOnly.checked
          ? 'On: only the addresses below are used; the public nodes of this network are not asked.'
          : 'Off: public nodes of this network (run by others) are tried beside yours.';
  };
  renderNodes();
  const timer = setInterval(renderNodes, NODE_REFRESH_MS);
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Delivery'),
      h(
        'div',
        { class: 'check' },
        batching,
        h('label', { for: 'set-batching' }, 'Cheaper batching (offline messages may wait up to a minute)'),
      ),
      h('div', { class: 'check' }, receipts, h('label', { for: 'set-receipts' }, 'Send read receipts')),
    ),
    h('fieldset', {}, h('legend', {}, 'Network'), reach, networkF.row),
    h(
      'fieldset',
      { class: 'advanced' },
      h('legend', {}, 'Advanced'),
      h(
        'p',
        { class: 'hint' },
        'Only needed to use your own node, or when direct links fail on a strict network.',
      ),
      nodeList,
      lastBlock,
      h('div', { class: 'check' }, ownOnly, h('label', { for: 'set-own-node' }, 'Use only my own node')),
      ownOnlyHint,
      nodesF.row,
      iceF.row,
    ),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary' }, 'Save settings'), saved),
  );

  const load = (s: AppSettings): void => {
    network.value = s.network;
    nodes.value = s.nodeUrls.join('\n');
    ice.value = formatIceServers(s.iceServers);
    batching.checked = s.batching;
    receipts.checked = s.readReceipts;
    notifyText.checked = s.notificationText;
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const f of [networkF, nodesF, iceF]) f.error.textContent = '';
    saved.textContent = '';
    let patch: Partial<AppSettings>;
    try {
      patch = {
        network: network.value as NetworkId,
        nodeUrls: parseNodeUrls(nodes.value),
        iceServers: parseIceServers(ice.value),
        batching: batching.checked,
        readReceipts: receipts.checked,
      };
    } catch (err) {
      const target = err instanceof SettingsInputError && err.field === 'iceServers' ? iceF : nodesF;
      target.error.textContent = errorText(err);
      return;
    }
    ctx.api.updateSettings(patch).then(
      (s) => {
        load(s);
        saved.textContent = 'Saved';
      },
      (err: unknown) => (nodesF.error.textContent = errorText(err)),
    );
  });
  // Choosing another network proposes that network's default nodes (the engine knows them).
  network.addEventListener('change', () => {
    ctx.api.updateSettings({ network: network.value as NetworkId }).then(load, (err: unknown) => {
      networkF.error.textContent = errorText(err);
    });
  });

  // The switch edits the node list: on takes the network's public nodes out, off puts them
  // back after the user's own (engine/network.ts `defaultNodeUrls`).
  ownOnly.addEventListener('change', () => {
    nodesF.error.textContent = '';
    const publicUrls = publicNow;
    let urls: string[];
    try {
      urls = parseNodeUrls(nodes.value).filter((u) => !publicUrls.includes(u));
    } catch (err) {
      nodesF.error.textContent = errorText(err);
      ownOnly.checked = !ownOnly.checked;
      return;
    }
    if (!ownOnly.checked) urls = [...new Set([...urls, ...publicUrls])];
    if (urls.length === 0) {
      nodesF.error.textContent = 'Add the address of your own node first.';
      ownOnly.checked = false;
      return;
    }
    ctx.api.updateSettings({ nodeUrls: urls }).then(
      (s) => {
        load(s);
        nodeText = '';
        renderNodes();
      },
      (err: unknown) => {
        nodesF.error.textContent = errorText(err);
        ownOnly.checked = !ownOnly.checked;
      },
    );
  });

  // Notifications: permission is asked only from this button (a user gesture), never on load.
  const notifyBtn = h('button', { type: 'button', class: 'btn' }, 'Allow notifications');
  const notifyState = h('p', { class: 'hint', role: 'status' });
  // Off by default: a notification shows on the lock screen, to anyone near it.
  const notifyText = h('input', { type: 'checkbox', role: 'switch', id: 'set-notify-text' });
  const notifyTextHint = h(
    'p',
    { class: 'hint', id: 'set-notify-text-hint' },
    'Off: a notification names the sender only. On: it shows the first 100 characters too, also on the lock screen. Muted chats never notify.',
  );
  notifyText.setAttribute('aria-describedby', notifyTextHint.id);
  const notifyTextSaved = h('p', { class: 'hint', role: 'status' });
  notifyText.addEventListener('change', () => {
    const on = notifyText.checked;
    ctx.api.updateSettings({ notificationText: on }).then(
      (s) => {
        notifyText.checked = s.notificationText;
        notifyTextSaved.textContent = s.notificationText ? 'Message text shown' : 'Sender only';
      },
      (err: unknown) => {
        notifyText.checked = !on;
        notifyTextSaved.textContent = errorText(err);
      },
    );
  });
  const renderNotify = (): void => {
    if (typeof Notification === 'undefined') {
      notifyState.textContent = 'This browser has no notifications.';
      notifyBtn.hidden = true;
      return;
    }
    const p = Notification.permission;
    notifyBtn.hidden = p !== 'default';
    notifyState.textContent =
      p === 'granted'
        ? 'On: you are told of new messages while the app is open in the background.'
        : p === 'denied'
          ? 'Blocked in the browser settings for this site.'
          : 'Off.';
  };
  notifyBtn.addEventListener('click', () => void Notification.requestPermission().then(renderNotify));
  renderNotify();

  // Blocked contacts (blocked from their chat), each with Unblock.
  const blockedList = h('ul', { class: 'blocked-list', 'aria-label': 'Blocked contacts' });
  const blockedState = h('p', { class: 'hint', role: 'status' });
  const renderBlocked = (): void => {
    ctx.api.blockedContacts().then(
      (rows) => {
        blockedState.textContent = rows.length === 0 ? 'Nobody is blocked.' : '';
        blockedList.replaceChildren(
          ...rows.map((c) => {
            const unblock = h(
              'button',
              { type: 'button', class: 'btn', 'aria-label': `Unblock ${c.displayName}` },
              'Unblock',
            );
            unblock.addEventListener('click', () => {
              ctx.api.unblockContact(c.id).then(
                () => {
                  ctx.announce(`${c.displayName} is unblocked`);
                  renderBlocked();
                },
                (err: unknown) => (blockedState.textContent = errorText(err)),
              );
            });
            return h('li', {}, h('span', { class: 'chat-name', dir: 'auto' }, c.displayName), unblock);
          }),
        );
      },
      (err: unknown) => (blockedState.textContent = errorText(err)),
    );
  };
  renderBlocked();

  // Backup: export downloads the encrypted file; import asks for its password.
  const exportBtn = h('button', { type: 'button', class: 'btn' }, 'Export backup');
  const backupState = h(
    'p',
    { class: 'hint', role: 'status' },
    // docs/protocol.md "Backup file": messages are in it, the files they carry are not.
    'Files, images and voice notes are not in the backup: save the ones you want to keep.',
  );
  exportBtn.addEventListener('click', () => {
    ctx.api.exportBackup().then(
      (bytes) => {
        downloadFile(
          `p2pcomm-${new Date().toISOString().slice(0, 10)}.p2pcomm`,
          new Blob([bytes as BlobPart]),
        );
        backupState.textContent =
          'Backup saved. It is encrypted with your password. Files, images and voice notes are not in it.';
      },
      (err: unknown) => (backupState.textContent = errorText(err)),
    );
  });
  const importForm = backupImportForm(ctx, () => ctx.navigate('#/chats'));

  const el = h(
    'section',
    { class: 'page settings', 'aria-labelledby': 'set-title' },
    h('h2', { id: 'set-title', class: 'pane-title' }, 'Settings'),
    form,
    h(
      'div',
      { class: 'card' },
      h('h3', {}, 'Notifications'),
      notifyState,
      h('div', { class: 'row' }, notifyBtn),
      h(
        'div',
        { class: 'check' },
        notifyText,
        h('label', { for: 'set-notify-text' }, 'Show message text in notifications'),
      ),
      notifyTextHint,
      notifyTextSaved,
    ),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, 'Blocked contacts'),
      h(
        'p',
        { class: 'hint' },
        'Nothing they send is shown or answered. Unblocking does not bring back what they sent meanwhile.',
      ),
      blockedState,
      blockedList,
    ),
    h(
      'div',
      { class: 'card form' },
      h('h3', {}, 'Backup'),
      h(
        'p',
        { class: 'hint' },
        'A file with your identity, contacts and history, encrypted with your password.',
      ),
      h('div', { class: 'row' }, exportBtn),
      backupState,
      h('h4', {}, 'Import'),
      h('p', { class: 'hint' }, 'Importing replaces the identity on this device with the one in the file.'),
      importForm,
    ),
  );
  ctx.api.settings().then(load, (err: unknown) => (nodesF.error.textContent = errorText(err)));
  return {
    el,
    title: 'Settings',
    onEvent(event) {
      if (event.type === 'settings' && document.activeElement?.closest('form') !== form) load(event.settings);
      if (event.type === 'network') renderReach();
      if (event.type === 'network' || event.type === 'settings') renderNodes();
    },
    dispose() {
      clearInterval(timer);
    },
  };
}
