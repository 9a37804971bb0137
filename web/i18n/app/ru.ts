// The staff app's messages in Russian (docs/decisions.md, "Languages"),
// one part per area of the app so that each can be edited on its own.

import core from "./core/ru";
import projects from "./projects/ru";
import admin from "./admin/ru";
import inbox from "./inbox/ru";
import tasks from "./tasks/ru";
import chat from "./chat/ru";
import account from "./account/ru";
import people from "./people/ru";

export default { ...core, ...projects, ...admin, ...inbox, ...tasks, ...chat, ...account, ...people };
