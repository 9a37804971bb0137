// Call tones made with WebAudio (no audio files): the ring an incoming call
// plays on every device of the callee, and the ringback the caller hears
// while the other side is being rung. One tone plays at a time.

let ctx: AudioContext | null = null;
let stopCurrent: (() => void) | null = null;
let playing: "" | "ring" | "ringback" = "";

/** The patterns: [frequencies, seconds on, seconds off]. */
const PATTERNS = {
  // Two short bursts of a warbling pair, then a pause: a phone ringing.
  ring: { freqs: [660, 880], bursts: [0, 0.5], burst: 0.38, period: 2.6, gain: 0.22 },
  // The North American ringback (440 + 480 Hz, 2 s on, 4 s off), quieter.
  ringback: { freqs: [440, 480], bursts: [0], burst: 2, period: 6, gain: 0.06 },
};

/** ringing reports which tone is playing ("" for none), for the tests. */
export function ringing(): "" | "ring" | "ringback" {
  return playing;
}

/** startTone plays a tone in a loop until stopTone; starting the same tone again does nothing. */
export function startTone(kind: "ring" | "ringback") {
  if (playing === kind) return;
  stopTone();
  playing = kind;
  try {
    ctx = ctx || new AudioContext();
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
  } catch {
    return; // no audio output: the dialog still shows
  }
  const p = PATTERNS[kind];
  const out = ctx.createGain();
  out.gain.value = p.gain;
  out.connect(ctx.destination);
  const nodes: OscillatorNode[] = [];
  const a = ctx;
  // Schedule a few periods ahead and top up; oscillators are cheap.
  let next = a.currentTime + 0.05;
  const schedule = () => {
    while (next < a.currentTime + p.period * 2) {
      for (const at of p.bursts) {
        for (const f of p.freqs) {
          const o = a.createOscillator();
          const env = a.createGain();
          o.type = "sine";
          o.frequency.value = f;
          // Warble the ring a little, as a bell would.
          if (kind === "ring") {
            const lfo = a.createOscillator();
            const depth = a.createGain();
            lfo.frequency.value = 20;
            depth.gain.value = 12;
            lfo.connect(depth).connect(o.frequency);
            lfo.start(next + at);
            lfo.stop(next + at + p.burst + 0.05);
          }
          const t0 = next + at;
          env.gain.setValueAtTime(0.0001, t0);
          env.gain.exponentialRampToValueAtTime(0.5, t0 + 0.02);
          env.gain.setValueAtTime(0.5, t0 + p.burst - 0.04);
          env.gain.exponentialRampToValueAtTime(0.0001, t0 + p.burst);
          o.connect(env).connect(out);
          o.start(t0);
          o.stop(t0 + p.burst + 0.02);
          nodes.push(o);
          o.onended = () => nodes.splice(nodes.indexOf(o), 1);
        }
      }
      next += p.period;
    }
  };
  schedule();
  const timer = window.setInterval(schedule, 1000);
  stopCurrent = () => {
    clearInterval(timer);
    for (const o of [...nodes]) {
      try {
        o.stop();
      } catch {
        /* already stopped */
      }
    }
    out.disconnect();
  };
}

export function stopTone() {
  stopCurrent?.();
  stopCurrent = null;
  playing = "";
}
