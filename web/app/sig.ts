// A minimal observable value and the hook that renders from it. The app's
// state is a handful of these; big collections (conversations, history) are
// mutated in place and announce changes through a version signal, so a new
// message does not copy a list of 10,000 conversations.

import { Component, h, type FunctionComponent } from "preact";
import { useEffect, useReducer, useRef } from "preact/hooks";

type Listener = () => void;

export class Sig<T> {
  private subs = new Set<Listener>();
  constructor(private v: T) {}
  get value(): T {
    return this.v;
  }
  set value(v: T) {
    if (Object.is(v, this.v)) return;
    this.v = v;
    this.emit();
  }
  update(fn: (v: T) => T) {
    this.value = fn(this.v);
  }
  emit() {
    for (const fn of [...this.subs]) fn();
  }
  subscribe(fn: Listener): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
}

/** A counter that tells subscribers a mutable collection changed. */
export class Version extends Sig<number> {
  constructor() {
    super(0);
  }
  bump() {
    this.value = this.value + 1;
  }
}

/**
 * use renders the component again whenever any of the signals changes, and
 * returns the first signal's value.
 */
export function use<T>(s: Sig<T>, ...more: Sig<unknown>[]): T {
  const [, force] = useReducer((n: number) => n + 1, 0);
  const sigs = useRef<Sig<unknown>[]>([]);
  sigs.current = [s, ...more];
  // The values this render used: a change between the render and the
  // effect (a sign-in check answering first) must render again.
  const drawn = useRef<unknown[]>([]);
  drawn.current = sigs.current.map((x) => x.value);
  useEffect(() => {
    let seen = drawn.current;
    const check = () => {
      const now = sigs.current.map((x) => x.value);
      if (now.some((v, i) => !Object.is(v, seen[i]))) {
        seen = now;
        force(0);
      }
    };
    const offs = sigs.current.map((x) => x.subscribe(check));
    check();
    return () => offs.forEach((off) => off());
    // Re-subscribe when the set of signals changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [s, ...more]);
  return s.value;
}

/** useSelect renders again only when the selected value changes. */
export function useSelect<T>(sigs: Sig<unknown>[], select: () => T): T {
  const [, force] = useReducer((n: number) => n + 1, 0);
  const sel = useRef(select);
  sel.current = select;
  const value = select();
  const last = useRef(value);
  last.current = value;
  useEffect(() => {
    const check = () => {
      const v = sel.current();
      if (!Object.is(v, last.current)) {
        last.current = v;
        force(0);
      }
    };
    const offs = sigs.map((x) => x.subscribe(check));
    check(); // a change between the render and now
    return () => offs.forEach((off) => off());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, sigs);
  return value;
}

/** memo skips re-rendering a component whose props are shallowly equal. */
export function memo<P extends object>(fn: FunctionComponent<P>): FunctionComponent<P> {
  class Memo extends Component<P> {
    shouldComponentUpdate(next: P) {
      const a = this.props as Record<string, unknown>,
        b = next as Record<string, unknown>;
      for (const k in a) if (k !== "children" && !Object.is(a[k], b[k])) return true;
      for (const k in b) if (k !== "children" && !(k in a)) return true;
      return false;
    }
    render() {
      return h(fn, this.props);
    }
  }
  return Memo as unknown as FunctionComponent<P>;
}
