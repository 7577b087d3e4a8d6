/**
 * A table body that renders only the rows in view once it holds more than
 * {@link THRESHOLD} of them: spacer rows above and below keep the scroll
 * height of the whole list, and the rows between are rebuilt as the window
 * scrolls. Below the threshold every row is in the DOM, as before.
 */
import { h } from './dom.js';

/** From how many rows on only the visible ones are rendered. */
export const THRESHOLD = 500;

/**
 * The rows to render, `[from, to)`: those between `top` and `top + height`
 * pixels of the list (rows `rowHeight` high), widened by `overscan` rows on
 * each side and clamped to `[0, count)`.
 */
export function visibleRange(top: number, height: number, rowHeight: number, count: number, overscan = 20): [number, number] {
  if (count === 0 || rowHeight <= 0) return [0, Math.min(count, 0)];
  const first = Math.floor(Math.max(0, top) / rowHeight);
  const last = Math.ceil(Math.max(0, top + height) / rowHeight);
  const from = Math.max(0, Math.min(count, first - overscan));
  const to = Math.min(count, Math.max(from, last + overscan));
  return [from, to];
}

/** A table body over `items`, each drawn by `render`; the body numbers the rows in `data-index`. */
export class WindowedBody<T> {
  private items: T[] = [];
  private rowHeight = 0;
  private frame = 0;
  private readonly onScroll = () => {
    if (!this.body.isConnected) {
      window.removeEventListener('scroll', this.onScroll);
      window.removeEventListener('resize', this.onScroll);
      return;
    }
    if (!this.frame) this.frame = requestAnimationFrame(() => ((this.frame = 0), this.draw()));
  };

  constructor(
    readonly body: HTMLElement,
    private readonly render: (item: T) => HTMLElement,
    private readonly threshold = THRESHOLD,
  ) {
    window.addEventListener('scroll', this.onScroll, { passive: true });
    window.addEventListener('resize', this.onScroll, { passive: true });
  }

  /** How many rows it holds (rendered or not). */
  get size(): number {
    return this.items.length;
  }

  private get windowed(): boolean {
    return this.items.length > this.threshold;
  }

  /** Adds rows at the end. */
  append(items: readonly T[]): void {
    const start = this.items.length;
    this.items.push(...items);
    if (this.windowed) this.draw();
    else this.body.append(...items.map((item, i) => this.row(item, start + i)));
  }

  /** Adds a row at the top (the live tail); `mark` is applied to its element while it is rendered now. */
  prepend(item: T, mark?: (tr: HTMLElement) => void): void {
    this.items.unshift(item);
    if (this.windowed) return this.draw();
    const tr = this.row(item, 0);
    mark?.(tr);
    this.body.prepend(tr);
    for (const [i, el] of [...this.body.children].entries()) (el as HTMLElement).dataset.index = String(i);
  }

  /** Focuses the row `delta` away from `tr`, scrolling it into view (and into the DOM) when it is not rendered. */
  step(tr: HTMLElement, delta: number): void {
    const target = Number(tr.dataset.index) + delta;
    if (!Number.isInteger(target) || target < 0 || target >= this.items.length) return;
    let next = this.body.querySelector<HTMLElement>(`tr[data-index="${target}"]`);
    if (!next) {
      window.scrollBy(0, delta * (this.rowHeight || tr.offsetHeight));
      this.draw();
      next = this.body.querySelector<HTMLElement>(`tr[data-index="${target}"]`);
    }
    next?.focus();
  }

  private row(item: T, index: number): HTMLElement {
    const tr = this.render(item);
    tr.dataset.index = String(index);
    return tr;
  }

  private spacer(height: number): HTMLElement {
    const tr = h('tr.spacer', { 'aria-hidden': 'true' }, h('td', { colspan: '99' }));
    tr.style.height = `${height}px`;
    return tr;
  }

  /** Rebuilds the rendered rows for the current scroll position. */
  private draw(): void {
    if (!this.windowed) return;
    if (!this.rowHeight) {
      const sample = this.body.querySelector<HTMLElement>('tr:not(.spacer)') ?? this.body.appendChild(this.row(this.items[0]!, 0));
      this.rowHeight = sample.getBoundingClientRect().height || 22;
    }
    const top = -this.body.getBoundingClientRect().top;
    const [from, to] = visibleRange(top, window.innerHeight, this.rowHeight, this.items.length);
    const focused = (document.activeElement as HTMLElement | null)?.closest?.('tr')?.dataset.index;
    const rows = this.items.slice(from, to).map((item, i) => this.row(item, from + i));
    this.body.replaceChildren(this.spacer(from * this.rowHeight), ...rows, this.spacer((this.items.length - to) * this.rowHeight));
    if (focused !== undefined) this.body.querySelector<HTMLElement>(`tr[data-index="${focused}"]`)?.focus({ preventScroll: true });
  }
}
