/** A minimal typed event emitter; a throwing listener never stops the others. */
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<(v: never) => void>>();

  /** Adds a listener and returns the function that removes it. */
  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (v: never) => void);
    return () => set.delete(listener as (v: never) => void);
  }

  /** Calls every listener of `event`; returns the errors listeners threw. */
  emit<K extends keyof Events>(event: K, value: Events[K]): unknown[] {
    const errors: unknown[] = [];
    for (const l of [...(this.listeners.get(event) ?? [])]) {
      try {
        (l as (v: Events[K]) => void)(value);
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  }
}
