// The staff app's messages in Spanish, area "inbox" (source: en.ts).

import type en from "./en";

const es: Record<keyof typeof en, string> = {
};

export default es;
