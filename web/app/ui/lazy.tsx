// lazy loads a component's chunk the first time it is rendered (the
// administration pages, the reminder windows and the emoji picker stay out
// of the initial download).

import { h, type FunctionComponent } from "preact";
import { useEffect, useReducer } from "preact/hooks";
import { Spinner } from "./common";

export function lazy<P extends object>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> & { preload(): void } {
  let C: FunctionComponent<P> | null = null;
  let p: Promise<void> | null = null;
  const start = () => {
    if (!p)
      p = load().then(
        (c) => {
          C = c;
        },
        (e) => {
          p = null;
          throw e;
        },
      );
    return p;
  };
  const Lazy = (props: P) => {
    const [, force] = useReducer((n: number) => n + 1, 0);
    useEffect(() => {
      if (!C) start().then(() => force(0), () => force(0));
    }, []);
    return C ? h(C, props) : <Spinner />;
  };
  Lazy.preload = () => void start().catch(() => {});
  return Lazy;
}
