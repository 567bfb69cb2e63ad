/**
 * Set-up retried in the benches: a link whose ICE set-up fails on a loaded machine is set up
 * again, up to SETUP_ATTEMPTS times; the measurement that follows is never repeated.
 */

const SETUP_ATTEMPTS = 3;
const SETUP_TIMEOUT_MS = 20_000;

/** `setUp` bounded by SETUP_TIMEOUT_MS and retried; `undo` cleans up a failed attempt. */
export async function retried<T>(
  what: string,
  setUp: () => Promise<T>,
  undo: (v: T) => void = () => {},
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < SETUP_ATTEMPTS; i++) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = setUp();
    try {
      return await Promise.race([
        attempt,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${what}: no link in ${SETUP_TIMEOUT_MS} ms`)),
            SETUP_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (e) {
      last = e;
      attempt.then(undo, () => undefined);
    } finally {
      clearTimeout(timer);
    }
  }
  throw last;
}
