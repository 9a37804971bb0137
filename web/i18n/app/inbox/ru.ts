// The staff app's messages in Russian, area "inbox" (source: en.ts).

import type en from "./en";

const ru: Record<keyof typeof en, string> = {
};

export default ru;
