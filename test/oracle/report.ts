/** One JSON line per passed check of the kaspad checks; bigints (DAA scores, sompi) as decimal strings. */
export function report(check: string, detail: Record<string, unknown> = {}): void {
  console.log(
    JSON.stringify({ check, ok: true, ...detail }, (_, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    ),
  );
}
