/**
 * Makes a page's IndexedDB answer late, as a slow device's would, so a test can land an
 * event in a window that is otherwise too short to hit (a reload mid-transfer, a read that
 * finishes after a later one). Only the success and error callbacks of the chosen requests
 * are delayed; the data and the transactions are untouched.
 */
import type { Page } from 'playwright-core';

type Delays = typeof globalThis & { __idbDelays?: Map<string, number> };

/**
 * From now on, requests `method` on object store `store` in `page` answer `ms` late (0 turns
 * it off). Lasts until the page reloads.
 */
export async function delayIdb(
  page: Page,
  method: 'get' | 'getAll' | 'getAllKeys' | 'put',
  store: string,
  ms: number,
): Promise<void> {
  await page.evaluate(
    ([method, store, ms]) => {
      const g = globalThis as Delays;
      const patch =
        g.__idbDelays === undefined || ![...g.__idbDelays.keys()].some((k) => k.startsWith(`${method}:`));
      g.__idbDelays ??= new Map();
      const delays = g.__idbDelays;
      delays.set(`${method}:${store}`, ms);
      if (!patch) return;
      const proto = IDBObjectStore.prototype as unknown as Record<string, (...a: unknown[]) => IDBRequest>;
      const original = proto[method]!;
      proto[method] = function (this: IDBObjectStore, ...args: unknown[]): IDBRequest {
        const request = original.apply(this, args);
        const late = delays.get(`${method}:${this.name}`) ?? 0;
        if (late <= 0) return request;
        const add = request.addEventListener.bind(request);
        request.addEventListener = ((type: string, fn: EventListenerOrEventListenerObject, o?: unknown) =>
          add(
            type,
            (ev: Event) =>
              setTimeout(() => (typeof fn === 'function' ? fn.call(request, ev) : fn.handleEvent(ev)), late),
            o as AddEventListenerOptions,
          )) as typeof request.addEventListener;
        return request;
      };
    },
    [method, store, ms] as const,
  );
}
