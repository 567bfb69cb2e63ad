/** Binds the compliance cases (`cases.ts`) to node:test, one `it` per case. */
import { describe, it } from 'node:test';
import { plainTarget, sealedTarget, sealingCases, storageCases, type Backend } from './cases.ts';

/**
 * Runs every compliance case against `backend`, unencrypted and behind the encrypted
 * wrapper, plus the wrapper's own cases (tamper, moved value, wrong key).
 */
export function runStorageSuite(name: string, backend: Backend): void {
  describe(`${name}: compliance`, () => {
    const target = plainTarget(backend);
    for (const c of storageCases) it(c.name, () => c.run(target));
  });
  describe(`encrypted(${name}): compliance`, () => {
    const target = sealedTarget(backend);
    for (const c of storageCases) it(c.name, () => c.run(target));
  });
  describe(`encrypted(${name}): sealing`, () => {
    for (const c of sealingCases) it(c.name, () => c.run(backend));
  });
}
