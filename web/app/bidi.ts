// Users' strings may carry explicit bidirectional formatting characters: a
// right-to-left override (U+202E) in a name would reverse everything the
// app writes after it on the same line ("… joined the chat", a time), a
// known spoofing trick. Every string the server sends is closed on
// arrival: the overrides, embeddings and isolates it opens and does not
// close are closed at its end, so it reverses its own text at most.
// Shared by the app and the widget.

const OPENS = /[\u202a\u202b\u202d\u202e\u2066-\u2068]/;

/** closeBidi appends the closers (PDF, PDI) for what s leaves open. */
export function closeBidi(s: string): string {
  if (!OPENS.test(s)) return s;
  const open: string[] = []; // "e" embedding or override, "i" isolate
  for (const c of s) {
    if (c === "\u202a" || c === "\u202b" || c === "\u202d" || c === "\u202e") open.push("e");
    else if (c === "\u2066" || c === "\u2067" || c === "\u2068") open.push("i");
    else if (c === "\u202c" && open[open.length - 1] === "e") open.pop();
    else if (c === "\u2069" && open.includes("i")) while (open.pop() !== "i");
  }
  let end = "";
  while (open.length) end += open.pop() === "i" ? "\u2069" : "\u202c";
  return s + end;
}

/** parseJSON parses a server's answer with every string closed. */
export function parseJSON(text: string): any {
  return JSON.parse(text, (_k, v) => (typeof v === "string" ? closeBidi(v) : v));
}
