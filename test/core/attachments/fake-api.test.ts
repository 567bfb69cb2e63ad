/** The demo API's attachments: the same refusals as the real one, progress to completion. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeApi } from '../../../src/web/fake-api.ts';
import { AttachmentError } from '../../../src/core/attachments/index.ts';
import type { AttachmentView } from '../../../src/web/app-api.ts';
import { randomBytes } from '../../../src/util/bytes.ts';

describe('FakeApi attachments', () => {
  it('sends a file with progress, refuses an empty one, cancels', async () => {
    const api = new FakeApi({ seed: true, stepMs: 1 });
    const contact = (await api.conversations()).find((c) => c.contact.connection === 'connected')!.contact;
    const seen: AttachmentView[] = [];
    api.onAttachment((a) => seen.push(a));
    const bytes = randomBytes(50_000);
    const sent = await api.sendFile(contact.id, { name: 'notes.txt', type: 'text/plain', bytes });
    assert.equal(sent.kind, 'file');
    await assert.rejects(api.attachmentBytes(sent.id), { code: 'INCOMPLETE' });
    await new Promise<void>((resolve) => {
      const off = api.onAttachment((a) => {
        if (a.id === sent.id && a.state === 'complete') {
          off();
          resolve();
        }
      });
    });
    assert.deepEqual(await api.attachmentBytes(sent.id), bytes);
    assert.ok(seen.some((a) => a.done > 0 && a.done < a.parts));
    await assert.rejects(
      api.sendFile(contact.id, { name: 'e', type: '', bytes: new Uint8Array(0) }),
      (e: unknown) => e instanceof AttachmentError && e.code === 'EMPTY',
    );
    const second = await api.sendFile(contact.id, { name: 'b.bin', type: '', bytes: randomBytes(20_000) });
    await api.cancelAttachment(second.id);
    const views = await api.attachments(contact.id);
    assert.equal(views.find((v) => v.id === second.id)?.state, 'cancelled');
    assert.equal(views.length, 2);
  });
});
