// The staff app's messages in English: the source and the fallback (docs/decisions.md, "Languages"),
// one part per area of the app so that each can be edited on its own.

import core from "./core/en";
import projects from "./projects/en";
import admin from "./admin/en";
import inbox from "./inbox/en";
import tasks from "./tasks/en";
import chat from "./chat/en";
import account from "./account/en";
import people from "./people/en";

export default { ...core, ...projects, ...admin, ...inbox, ...tasks, ...chat, ...account, ...people };
