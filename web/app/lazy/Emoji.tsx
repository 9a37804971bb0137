// The emoji picker: categories, a search by name, keyboard navigation.
// Loaded on first use (it carries its own data).

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import en from "../../i18n/app/chat/en";

// The categories: a name, the emoji (chars), and the words to find each by
// (a message of the catalogue: "grin smile happy|smile happy|…", one entry
// per emoji in the same order, its first word its name). The words are in
// the app's language; the English ones find an emoji in every language.
const CATS = [
  {
    id: "smileys",
    name: "app.chat.emoji.cat.smileys",
    words: "app.chat.emoji.words.smileys",
    chars: "😀 😃 😄 😁 😆 😅 🤣 😂 🙂 🙃 😉 😊 😇 🥰 😍 🤩 😘 😗 😚 😙 😋 😛 😜 🤪 😝 🤑 🤗 🤭 🤫 🤔 🤐 🤨 😐 😑 😶 😏 😒 🙄 😬 😮‍💨 🤥 😌 😔 😪 🤤 😴 😷 🤒 🤕 🤢 🤮 🤧 🥵 🥶 🥴 😵 🤯 🤠 🥳 😎 🤓 🧐 😕 😟 🙁 😮 😯 😲 😳 🥺 😦 😧 😨 😰 😥 😢 😭 😱 😖 😣 😞 😓 😩 😫 🥱 😤 😡 😠 🤬 😈 💀 💩 🤡 👻 👽 🤖",
  },
  {
    id: "gestures",
    name: "app.chat.emoji.cat.gestures",
    words: "app.chat.emoji.words.gestures",
    chars: "👋 🤚 ✋ 🖖 👌 🤌 ✌️ 🤞 🤟 🤘 🤙 👈 👉 👆 👇 ☝️ 👍 👎 ✊ 👊 👏 🙌 👐 🤲 🤝 🙏 ✍️ 💪 🧠 👀 👁️ 👄 🫶 🙋 🙇 🤦 🤷 🙅 🙆 💁 🧑‍💻 👩‍💻 👨‍💻 🕺 💃",
  },
  {
    id: "hearts",
    name: "app.chat.emoji.cat.hearts",
    words: "app.chat.emoji.words.hearts",
    chars: "❤️ 🧡 💛 💚 💙 💜 🖤 🤍 🤎 💔 ❣️ 💕 💞 💓 💗 💖 💘 💝 💯 💢 💥 💫 💦 💨 💬 💭 💤",
  },
  {
    id: "nature",
    name: "app.chat.emoji.cat.nature",
    words: "app.chat.emoji.words.nature",
    chars: "🐶 🐱 🐭 🐹 🐰 🦊 🐻 🐼 🐨 🐯 🦁 🐮 🐷 🐸 🐵 🐔 🐧 🐦 🦆 🦉 🐝 🦋 🐌 🐞 🐢 🐍 🐙 🐬 🐳 🦈 🌵 🌲 🌳 🌴 🌱 🌿 🍀 🍁 🍂 🌷 🌹 🌻 🌸 🌞 🌝 ⭐ 🌟 ✨ ⚡ 🔥 🌈 ☀️ ⛅ ☁️ 🌧️ ❄️ ☃️ 🌊",
  },
  {
    id: "food",
    name: "app.chat.emoji.cat.food",
    words: "app.chat.emoji.words.food",
    chars: "🍏 🍎 🍐 🍊 🍋 🍌 🍉 🍇 🍓 🍒 🍑 🥭 🍍 🥥 🥝 🍅 🥑 🥦 🌽 🥕 🥐 🍞 🧀 🥚 🍳 🥞 🥓 🍔 🍟 🍕 🌭 🥪 🌮 🌯 🥗 🍝 🍜 🍣 🍱 🍩 🍪 🎂 🍰 🧁 🍫 🍬 🍿 ☕ 🍵 🧃 🥤 🍺 🍻 🥂 🍷 🍸",
  },
  {
    id: "activities",
    name: "app.chat.emoji.cat.activities",
    words: "app.chat.emoji.words.activities",
    chars: "⚽ 🏀 🏈 ⚾ 🎾 🏐 🏓 🏸 🥅 ⛳ 🎣 🎿 🏂 🏋️ 🚴 🏃 🏆 🥇 🥈 🥉 🏅 🎉 🎊 🎈 🎁 🎄 🎃 🎮 🎲 🧩 🎯 🎳 🎨 🎬 🎤 🎧 🎵 🎶 🎸 🎹 🥁",
  },
  {
    id: "travel",
    name: "app.chat.emoji.cat.travel",
    words: "app.chat.emoji.words.travel",
    chars: "🚗 🚕 🚌 🚑 🚒 🚓 🚚 🚲 🛴 🏍️ 🚂 🚆 🚇 ✈️ 🛫 🛬 🚀 🛸 🚁 ⛵ 🚢 ⚓ 🏠 🏢 🏥 🏦 🏨 🏫 🏭 🏰 🗼 🗽 ⛪ 🕌 ⛰️ 🏔️ 🏕️ 🏖️ 🏝️ 🌍 🗺️ 🧭",
  },
  {
    id: "objects",
    name: "app.chat.emoji.cat.objects",
    words: "app.chat.emoji.words.objects",
    chars: "⌚ 📱 💻 ⌨️ 🖥️ 🖨️ 🖱️ 💾 💿 📷 🎥 📞 ☎️ 📺 📻 ⏰ ⏳ 🔋 🔌 💡 🔦 🕯️ 💸 💵 💳 💎 🔧 🔨 ⚙️ 🔩 🧰 🔑 🔒 🔓 🚪 🛒 📦 📫 📮 ✉️ 📧 📝 📄 📃 📑 📊 📈 📉 📅 📆 🗓️ 📋 📌 📍 📎 ✂️ 🖊️ ✏️ 🔍 🔎 📚 📖 🔖 🏷️ 🗑️",
  },
  {
    id: "symbols",
    name: "app.chat.emoji.cat.symbols",
    words: "app.chat.emoji.words.symbols",
    chars: "✅ ☑️ ✔️ ❌ ❎ ➕ ➖ ➗ ✖️ ❓ ❔ ❗ ‼️ ⁉️ ⚠️ 🚫 ⛔ 🔴 🟠 🟡 🟢 🔵 🟣 ⚫ ⚪ 🔶 🔷 ⬆️ ⬇️ ⬅️ ➡️ ↩️ 🔄 🔁 ▶️ ⏸️ ⏹️ ⏺️ 🔔 🔕 📢 📣 🆗 🆕 🆒 🆘 ℹ️ 🔝 💲 ©️ ®️ ™️ #️⃣ *️⃣ 0️⃣ 1️⃣ 2️⃣ 3️⃣ 🔟",
  },
] as const;

interface Item {
  ch: string;
  /** The words in the app's language, then the English ones (for the search). */
  words: string;
  /** The emoji's name: its first word in the app's language. */
  name: string;
}

/** items reads a category's emoji with their words in the app's language (and the English ones). */
function items(c: (typeof CATS)[number]): Item[] {
  const english = en[c.words].split("|");
  const own = t(c.words).split("|");
  // A translation with another number of entries than the emoji is not used.
  const mine = own.length === english.length ? own : english;
  return c.chars.split(" ").map((ch, i) => {
    const words = mine[i] === english[i] ? english[i] : mine[i] + " " + english[i];
    return { ch, words, name: mine[i].split(" ")[0] };
  });
}

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
  // The category shown: "recent" or a category's id.
  const [cat, setCat] = useState<string>(recent().length ? "recent" : CATS[0].id);
  const cats = useMemo(() => CATS.map((c) => ({ id: c.id, name: t(c.name), items: items(c) })), []);
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
  const shown: Item[] = useMemo(() => {
    // "е" finds "ё" too (Russian is often typed without it).
    const plain = (s: string) => s.replace(/ё/g, "е");
    const query = plain(q.trim().toLocaleLowerCase());
    if (query) return cats.flatMap((c) => c.items).filter((e) => plain(e.words).includes(query));
    if (cat === "recent") return recent().map((ch) => ({ ch, words: "", name: "" }));
    return cats.find((c) => c.id === cat)?.items || [];
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
  const catName = cat === "recent" ? t("app.chat.emoji.recent") : cats.find((c) => c.id === cat)?.name || "";
  return (
    <div class="emoji-picker" ref={ref} role="dialog" aria-label={t("app.chat.emoji.label")} onKeyDown={keys}>
      <input ref={input} class="input block" type="search" placeholder={t("app.chat.emoji.find")} aria-label={t("app.chat.emoji.find")} value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
      {!q ? (
        <div class="emoji-cats" role="tablist">
          {[{ id: "recent", name: t("app.chat.emoji.recent"), icon: "🕘" }, ...cats.map((c) => ({ id: c.id, name: c.name, icon: c.items[0].ch }))].map((c) => (
            <button key={c.id} role="tab" aria-selected={cat === c.id} class={cat === c.id ? "on" : ""} onClick={() => setCat(c.id)}>
              {c.icon}
              <span class="sr">{c.name}</span>
            </button>
          ))}
        </div>
      ) : null}
      <div class="emoji-grid" role="listbox" aria-label={q ? t("app.chat.emoji.results") : catName}>
        {shown.length ? (
          shown.map((e) => (
            <button key={e.ch} role="option" title={e.name || e.ch} onClick={() => pick(e.ch)}>
              {e.ch}
            </button>
          ))
        ) : (
          <p class="muted">{cat === "recent" && !q ? t("app.chat.emoji.noRecent") : t("app.chat.emoji.none")}</p>
        )}
      </div>
    </div>
  );
}
