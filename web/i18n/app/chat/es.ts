// The staff app's messages in Spanish, area "chat" (source: en.ts).

import type en from "./en";

const es: Record<keyof typeof en, string> = {
};

export default es;
