// The staff app's messages in Russian, area "core" (source: en.ts).

import type en from "./en";

const ru: Record<keyof typeof en, string> = {
};

export default ru;
