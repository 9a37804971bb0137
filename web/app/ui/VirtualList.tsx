// VirtualList renders only the rows near the viewport, so a list of
// 10,000 conversations or a history of thousands of messages costs the same
// as a short one. Row heights may vary: each rendered row is measured
// (ResizeObserver) and unmeasured rows use an estimate. When heights or
// rows change, the first visible row stays where it was on screen (the
// anchor), or, in a list that sticks to the bottom, the bottom stays in
// view: loading older messages above never makes the text jump.

import type { ComponentChildren, Ref } from "preact";
import { useEffect, useImperativeHandle, useLayoutEffect, useMemo, useReducer, useRef } from "preact/hooks";

export type Key = string | number;

export interface VirtualListHandle {
  scrollToIndex(i: number, align?: "start" | "center" | "end"): void;
  scrollToBottom(): void;
  atBottom(): boolean;
  element(): HTMLDivElement | null;
}

export interface VirtualListProps {
  count: number;
  keyAt(i: number): Key;
  estimate(i: number): number;
  render(i: number): ComponentChildren;
  /** Any value that changes when the rows' content changes. */
  version?: unknown;
  /** Stick to the bottom while the user is there (chat history); start at the bottom. */
  stickToBottom?: boolean;
  /** Rows sit at the bottom when they do not fill the viewport. */
  bottomAligned?: boolean;
  /** Called after scrolling with the visible range and whether the bottom is in view. */
  onRange?(start: number, end: number, atBottom: boolean): void;
  handle?: Ref<VirtualListHandle>;
  class?: string;
  role?: string;
  label?: string;
  tabIndex?: number;
  onKeyDown?(e: KeyboardEvent): void;
}

const OVERSCAN = 800; // px rendered above and below the viewport
const BOTTOM_SLACK = 24; // px from the end that still counts as "at the bottom"

export function VirtualList(p: VirtualListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<Key, number>());
  const [measured, bumpMeasured] = useReducer((n: number) => n + 1, 0);
  const [, force] = useReducer((n: number) => n + 1, 0);
  const st = useRef({
    top: 0,
    vh: 0,
    atBottom: !!p.stickToBottom,
    anchor: null as null | { key: Key; delta: number },
    range: [0, 0] as [number, number],
    forced: 0, // renders the layout effect asked for since the last frame
  }).current;

  // Offsets of every row; recomputed when rows or measurements change.
  const layout = useMemo(() => {
    const n = p.count;
    const offsets = new Float64Array(n + 1);
    const index = new Map<Key, number>();
    const h = heights.current;
    for (let i = 0; i < n; i++) {
      const k = p.keyAt(i);
      index.set(k, i);
      offsets[i + 1] = offsets[i] + (h.get(k) ?? p.estimate(i));
    }
    return { offsets, index, total: offsets[n] };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [p.count, p.version, measured]);

  const pad = p.bottomAligned ? Math.max(0, st.vh - layout.total) : 0;

  const find = (y: number) => {
    // First row whose bottom is below y.
    const o = layout.offsets;
    let lo = 0,
      hi = p.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (o[mid + 1] + pad <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const rangeAt = (top: number): [number, number] => {
    const start = Math.max(0, find(top - OVERSCAN));
    const end = Math.min(p.count, find(top + st.vh + OVERSCAN) + 1);
    return [start, end];
  };

  const noteAnchor = () => {
    if (!p.count) {
      st.anchor = null;
      return;
    }
    const i = Math.min(find(st.top), p.count - 1);
    st.anchor = { key: p.keyAt(i), delta: layout.offsets[i] + pad - st.top };
  };

  const [start, end] = rangeAt(st.top);
  st.range = [start, end];

  // Keep the anchor (or the bottom) in place after every change.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    st.vh = el.clientHeight;
    if (p.stickToBottom && st.atBottom) {
      const want = Math.max(0, el.scrollHeight - el.clientHeight);
      if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
    } else if (st.anchor) {
      const i = layout.index.get(st.anchor.key);
      if (i !== undefined) {
        const want = layout.offsets[i] + pad - st.anchor.delta;
        if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
      }
    }
    st.top = el.scrollTop;
    noteAnchor();
    const [s, e] = rangeAt(st.top);
    if (s !== start || e !== end) {
      // A row far taller than its estimate (a 10,000-character message on
      // a phone) makes the range flip: rendered, it stretches the scroll
      // height and moves the range past itself; gone, the height shrinks
      // and the range comes back. Its measurement arrives only after a
      // frame, so past a few renders in a row the next waits for one.
      if (st.forced < 3) force(0);
      else if (st.forced === 3) requestAnimationFrame(() => force(0));
      if (st.forced++ === 0) requestAnimationFrame(() => (st.forced = 0));
    }
    p.onRange?.(s, e, st.atBottom);
  });

  // The viewport's own size (window resizes, the composer growing).
  useEffect(() => {
    const el = scroller.current!;
    const ro = new ResizeObserver(() => {
      if (el.clientHeight !== st.vh) {
        st.vh = el.clientHeight;
        force(0);
      }
    });
    ro.observe(el);
    return () => ro.disconnect();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Row measurements.
  const rowObserver = useMemo(
    () =>
      new ResizeObserver((entries) => {
        let changed = false;
        for (const e of entries) {
          const el = e.target as HTMLElement;
          const k = el.dataset.k!;
          const key: Key = el.dataset.n ? Number(k) : k;
          const h = e.borderBoxSize?.[0]?.blockSize ?? el.offsetHeight;
          if (h > 0 && heights.current.get(key) !== h) {
            heights.current.set(key, h);
            changed = true;
          }
        }
        if (changed) bumpMeasured(0);
      }),
    [],
  );
  useEffect(() => () => rowObserver.disconnect(), [rowObserver]);

  const onScroll = () => {
    const el = scroller.current!;
    st.top = el.scrollTop;
    st.vh = el.clientHeight;
    st.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    noteAnchor();
    const [s, e] = rangeAt(st.top);
    if (s !== st.range[0] || e !== st.range[1]) force(0);
    else p.onRange?.(s, e, st.atBottom);
  };

  useImperativeHandle(
    p.handle as Ref<VirtualListHandle>,
    () => ({
      scrollToIndex(i, align = "center") {
        const el = scroller.current;
        if (!el || i < 0 || i >= p.count) return;
        const top = layout.offsets[i] + pad;
        const h = layout.offsets[i + 1] - layout.offsets[i];
        let y = top;
        if (align === "center") y = top - (el.clientHeight - h) / 2;
        else if (align === "end") y = top - el.clientHeight + h;
        y = Math.max(0, y);
        st.atBottom = false;
        st.anchor = { key: p.keyAt(i), delta: top - y };
        el.scrollTop = y;
        st.top = el.scrollTop;
        st.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
        force(0);
      },
      scrollToBottom() {
        const el = scroller.current;
        if (!el) return;
        st.atBottom = true;
        el.scrollTop = el.scrollHeight;
        force(0);
      },
      atBottom: () => st.atBottom,
      element: () => scroller.current,
    }),
    [layout, pad, p.count],
  );

  const rows: ComponentChildren[] = [];
  for (let i = start; i < end; i++) {
    const k = p.keyAt(i);
    rows.push(
      <Row key={k} k={k} observer={rowObserver}>
        {p.render(i)}
      </Row>,
    );
  }

  return (
    <div
      ref={scroller}
      class={"vlist " + (p.class || "")}
      onScroll={onScroll}
      role={p.role as "list"}
      aria-label={p.label}
      tabIndex={p.tabIndex}
      onKeyDown={p.onKeyDown}
    >
      <div class="vlist-inner" style={{ height: `${layout.total + pad}px` }}>
        <div class="vlist-rows" style={{ transform: `translateY(${layout.offsets[start] + pad}px)` }}>
          {rows}
        </div>
      </div>
    </div>
  );
}

function Row(props: { k: Key; observer: ResizeObserver; children: ComponentChildren }) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current!;
    props.observer.observe(el);
    return () => props.observer.unobserve(el);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <div ref={ref} class="vrow" data-k={String(props.k)} data-n={typeof props.k === "number" ? "1" : undefined}>
      {props.children}
    </div>
  );
}
