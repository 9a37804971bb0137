// The emoji picker: categories, a search by name, keyboard navigation.
// Loaded on first use (it carries its own data).

import { useEffect, useMemo, useRef, useState } from "preact/hooks";

// Each entry: the emoji, then words to find it by.
const DATA: [string, string][] = [
  [
    "Smileys",
    "😀 grin smile happy|😃 smile happy|😄 smile laugh|😁 grin|😆 laugh|😅 sweat laugh|🤣 rofl laugh|😂 joy tears laugh|🙂 slight smile|🙃 upside down|😉 wink|😊 blush smile|😇 angel innocent|🥰 love hearts|😍 heart eyes love|🤩 star struck|😘 kiss|😗 kiss|😚 kiss|😙 kiss|😋 yum tasty|😛 tongue|😜 wink tongue|🤪 zany crazy|😝 tongue|🤑 money|🤗 hug|🤭 oops giggle|🤫 shush quiet|🤔 think hmm|🤐 zip mouth|🤨 raised eyebrow|😐 neutral|😑 expressionless|😶 no mouth|😏 smirk|😒 unamused|🙄 eye roll|😬 grimace|😮‍💨 exhale|🤥 lie|😌 relieved|😔 pensive|😪 sleepy|🤤 drool|😴 sleep|😷 mask sick|🤒 thermometer sick|🤕 hurt|🤢 nausea|🤮 vomit|🤧 sneeze|🥵 hot|🥶 cold|🥴 woozy|😵 dizzy|🤯 mind blown|🤠 cowboy|🥳 party celebrate|😎 cool sunglasses|🤓 nerd|🧐 monocle|😕 confused|😟 worried|🙁 frown|😮 wow open mouth|😯 hushed|😲 astonished|😳 flushed|🥺 pleading|😦 frown|😧 anguish|😨 fear|😰 anxious sweat|😥 sad relieved|😢 cry sad|😭 sob cry|😱 scream|😖 confounded|😣 persevere|😞 disappointed|😓 sweat|😩 weary|😫 tired|🥱 yawn|😤 triumph steam|😡 angry rage|😠 angry|🤬 swear|😈 devil|💀 skull dead|💩 poop|🤡 clown|👻 ghost|👽 alien|🤖 robot",
  ],
  [
    "Gestures",
    "👋 wave hello bye|🤚 raised hand|✋ hand stop|🖖 vulcan|👌 ok|🤌 pinched|✌️ victory peace|🤞 fingers crossed luck|🤟 love you|🤘 rock|🤙 call me|👈 left|👉 right|👆 up|👇 down|☝️ point up|👍 thumbs up yes like ok|👎 thumbs down no dislike|✊ fist|👊 punch|👏 clap applause|🙌 raised hands hooray|👐 open hands|🤲 palms|🤝 handshake deal|🙏 pray thanks please|✍️ write|💪 strong muscle|🧠 brain|👀 eyes look|👁️ eye|👄 mouth|🫶 heart hands|🙋 raise hand|🙇 bow|🤦 facepalm|🤷 shrug|🙅 no|🙆 ok|💁 info|🧑‍💻 developer|👩‍💻 developer|👨‍💻 developer|🕺 dance|💃 dance",
  ],
  [
    "Hearts",
    "❤️ heart love red|🧡 orange heart|💛 yellow heart|💚 green heart|💙 blue heart|💜 purple heart|🖤 black heart|🤍 white heart|🤎 brown heart|💔 broken heart|❣️ heart exclamation|💕 two hearts|💞 revolving hearts|💓 beating heart|💗 growing heart|💖 sparkling heart|💘 cupid|💝 gift heart|💯 hundred perfect|💢 anger|💥 boom collision|💫 dizzy star|💦 sweat drops|💨 dash|💬 speech|💭 thought|💤 zzz sleep",
  ],
  [
    "Nature",
    "🐶 dog|🐱 cat|🐭 mouse|🐹 hamster|🐰 rabbit|🦊 fox|🐻 bear|🐼 panda|🐨 koala|🐯 tiger|🦁 lion|🐮 cow|🐷 pig|🐸 frog|🐵 monkey|🐔 chicken|🐧 penguin|🐦 bird|🦆 duck|🦉 owl|🐝 bee|🦋 butterfly|🐌 snail|🐞 ladybug|🐢 turtle|🐍 snake|🐙 octopus|🐬 dolphin|🐳 whale|🦈 shark|🌵 cactus|🌲 tree|🌳 tree|🌴 palm|🌱 seedling|🌿 herb|🍀 clover luck|🍁 maple leaf|🍂 leaves autumn|🌷 tulip|🌹 rose|🌻 sunflower|🌸 blossom|🌞 sun|🌝 moon|⭐ star|🌟 glowing star|✨ sparkles|⚡ lightning|🔥 fire hot|🌈 rainbow|☀️ sunny|⛅ cloud sun|☁️ cloud|🌧️ rain|❄️ snow|☃️ snowman|🌊 wave ocean",
  ],
  [
    "Food",
    "🍏 apple green|🍎 apple|🍐 pear|🍊 orange|🍋 lemon|🍌 banana|🍉 watermelon|🍇 grapes|🍓 strawberry|🍒 cherries|🍑 peach|🥭 mango|🍍 pineapple|🥥 coconut|🥝 kiwi|🍅 tomato|🥑 avocado|🥦 broccoli|🌽 corn|🥕 carrot|🥐 croissant|🍞 bread|🧀 cheese|🥚 egg|🍳 cooking|🥞 pancakes|🥓 bacon|🍔 burger|🍟 fries|🍕 pizza|🌭 hot dog|🥪 sandwich|🌮 taco|🌯 burrito|🥗 salad|🍝 pasta|🍜 noodles ramen|🍣 sushi|🍱 bento|🍩 donut|🍪 cookie|🎂 birthday cake|🍰 cake|🧁 cupcake|🍫 chocolate|🍬 candy|🍿 popcorn|☕ coffee|🍵 tea|🧃 juice|🥤 soda|🍺 beer|🍻 cheers beers|🥂 cheers champagne|🍷 wine|🍸 cocktail",
  ],
  [
    "Activities",
    "⚽ football soccer|🏀 basketball|🏈 american football|⚾ baseball|🎾 tennis|🏐 volleyball|🏓 ping pong|🏸 badminton|🥅 goal|⛳ golf|🎣 fishing|🎿 ski|🏂 snowboard|🏋️ weights|🚴 bike|🏃 run|🏆 trophy win|🥇 gold medal first|🥈 silver|🥉 bronze|🏅 medal|🎉 party tada celebrate|🎊 confetti|🎈 balloon|🎁 gift present|🎄 christmas tree|🎃 pumpkin halloween|🎮 game|🎲 dice|🧩 puzzle|🎯 target bullseye|🎳 bowling|🎨 art paint|🎬 movie|🎤 microphone sing|🎧 headphones music|🎵 music note|🎶 music notes|🎸 guitar|🎹 piano|🥁 drum",
  ],
  [
    "Travel",
    "🚗 car|🚕 taxi|🚌 bus|🚑 ambulance|🚒 fire engine|🚓 police|🚚 truck|🚲 bicycle|🛴 scooter|🏍️ motorcycle|🚂 train|🚆 train|🚇 metro|✈️ airplane plane|🛫 departure|🛬 arrival|🚀 rocket launch|🛸 ufo|🚁 helicopter|⛵ sailboat|🚢 ship|⚓ anchor|🏠 home house|🏢 office building|🏥 hospital|🏦 bank|🏨 hotel|🏫 school|🏭 factory|🏰 castle|🗼 tower|🗽 statue|⛪ church|🕌 mosque|⛰️ mountain|🏔️ snow mountain|🏕️ camping|🏖️ beach|🏝️ island|🌍 earth globe|🗺️ map|🧭 compass",
  ],
  [
    "Objects",
    "⌚ watch|📱 phone mobile|💻 laptop|⌨️ keyboard|🖥️ desktop computer|🖨️ printer|🖱️ mouse|💾 floppy save|💿 cd|📷 camera|🎥 video camera|📞 telephone|☎️ phone|📺 tv|📻 radio|⏰ alarm clock|⏳ hourglass|🔋 battery|🔌 plug|💡 idea bulb light|🔦 flashlight|🕯️ candle|💸 money wings|💵 dollar|💳 credit card|💎 gem diamond|🔧 wrench tool|🔨 hammer|⚙️ gear settings|🔩 bolt|🧰 toolbox|🔑 key|🔒 lock|🔓 unlock|🚪 door|🛒 cart shopping|📦 package box|📫 mailbox|📮 postbox|✉️ envelope mail|📧 e-mail|📝 memo note|📄 page document|📃 page|📑 tabs|📊 chart bar|📈 chart up growth|📉 chart down|📅 calendar date|📆 calendar|🗓️ calendar|📋 clipboard|📌 pin|📍 pin location|📎 paperclip attach|✂️ scissors|🖊️ pen|✏️ pencil|🔍 search magnifier|🔎 search|📚 books|📖 book|🔖 bookmark|🏷️ label tag|🗑️ trash bin",
  ],
  [
    "Symbols",
    "✅ check done yes|☑️ checkbox|✔️ check mark|❌ cross no wrong|❎ cross|➕ plus|➖ minus|➗ divide|✖️ multiply|❓ question|❔ question|❗ exclamation|‼️ double exclamation|⁉️ interrobang|⚠️ warning|🚫 forbidden no|⛔ no entry|🔴 red circle|🟠 orange circle|🟡 yellow circle|🟢 green circle|🔵 blue circle|🟣 purple circle|⚫ black circle|⚪ white circle|🔶 orange diamond|🔷 blue diamond|⬆️ up arrow|⬇️ down arrow|⬅️ left arrow|➡️ right arrow|↩️ return|🔄 repeat refresh|🔁 repeat|▶️ play|⏸️ pause|⏹️ stop|⏺️ record|🔔 bell|🔕 mute bell|📢 loudspeaker|📣 megaphone|🆗 ok|🆕 new|🆒 cool|🆘 sos help|ℹ️ information|🔝 top|💲 dollar|©️ copyright|®️ registered|™️ trademark|#️⃣ hash|*️⃣ asterisk|0️⃣ zero|1️⃣ one|2️⃣ two|3️⃣ three|🔟 ten",
  ],
];

const CATS = DATA.map(([name, s]) => ({ name, items: s.split("|").map((e) => { const i = e.indexOf(" "); return { ch: e.slice(0, i), words: e.slice(i + 1) }; }) }));

const RECENT_KEY = "parley:emoji:recent";

function recent(): string[] {
  try {
    return JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");
  } catch {
    return [];
  }
}

export function EmojiPicker(props: { onPick: (s: string) => void; onClose: () => void }) {
  const [q, setQ] = useState("");
  const [cat, setCat] = useState(recent().length ? "Recent" : CATS[0].name);
  const ref = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
    const away = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node) && !(e.target as HTMLElement).closest?.(".emoji-wrap")) props.onClose();
    };
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, []);
  const items = useMemo(() => {
    const query = q.trim().toLowerCase();
    if (query) return CATS.flatMap((c) => c.items).filter((e) => e.words.includes(query));
    if (cat === "Recent") return recent().map((ch) => ({ ch, words: "" }));
    return CATS.find((c) => c.name === cat)?.items || [];
  }, [q, cat]);
  const pick = (ch: string) => {
    try {
      localStorage.setItem(RECENT_KEY, JSON.stringify([ch, ...recent().filter((x) => x !== ch)].slice(0, 24)));
    } catch {
      /* no storage */
    }
    props.onPick(ch);
  };
  const keys = (e: KeyboardEvent) => {
    const grid = ref.current?.querySelector(".emoji-grid");
    if (!grid) return;
    const btns = [...grid.querySelectorAll<HTMLElement>("button")];
    const i = btns.indexOf(document.activeElement as HTMLElement);
    const cols = 8;
    const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols };
    if (e.key === "Escape") {
      e.stopPropagation();
      props.onClose();
      return;
    }
    if (!(e.key in step)) return;
    if (i < 0 && e.key === "ArrowDown") {
      e.preventDefault();
      btns[0]?.focus();
      return;
    }
    if (i < 0) return;
    e.preventDefault();
    const n = i + step[e.key];
    if (n < 0) input.current?.focus();
    else btns[Math.min(btns.length - 1, n)]?.focus();
  };
  return (
    <div class="emoji-picker" ref={ref} role="dialog" aria-label="Emoji" onKeyDown={keys}>
      <input ref={input} class="input block" type="search" placeholder="Find an emoji" aria-label="Find an emoji" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
      {!q ? (
        <div class="emoji-cats" role="tablist">
          {["Recent", ...CATS.map((c) => c.name)].map((n) => (
            <button key={n} role="tab" aria-selected={cat === n} class={cat === n ? "on" : ""} onClick={() => setCat(n)}>
              {n === "Recent" ? "🕘" : CATS.find((c) => c.name === n)!.items[0].ch}
              <span class="sr">{n}</span>
            </button>
          ))}
        </div>
      ) : null}
      <div class="emoji-grid" role="listbox" aria-label={q ? "Results" : cat}>
        {items.length ? (
          items.map((e) => (
            <button key={e.ch} role="option" title={e.words.split(" ")[0] || e.ch} onClick={() => pick(e.ch)}>
              {e.ch}
            </button>
          ))
        ) : (
          <p class="muted">{cat === "Recent" && !q ? "No recent emoji yet." : "No emoji found."}</p>
        )}
      </div>
    </div>
  );
}
