/** What every screen gets from the shell, and what it gives back. */
import type { AppApi, AppEvent } from '../app-api.ts';

/** Services the shell lends to a screen. */
export interface ViewContext {
  readonly api: AppApi;
  /** The app's own address, for invite links. */
  readonly appUrl: string;
  /** Goes to a route, e.g. "#/chat/c1". */
  navigate(hash: string): void;
  /** A short status line for screen readers and eyes ("Copied"). */
  announce(text: string): void;
  /**
   * A visible note above the screen that outlives one navigation ("Bob is already a
   * contact", then his chat opens); it goes when dismissed or at the next one. Also announced.
   */
  flash(text: string): void;
}

/** A mounted screen. */
export interface View {
  readonly el: HTMLElement;
  /** Title for the document and the screen-reader announcement on navigation. */
  readonly title: string;
  /** Engine events while mounted. */
  onEvent?(event: AppEvent): void;
  /** Called when the screen is left: stop timers, cameras, subscriptions. */
  dispose?(): void;
}
