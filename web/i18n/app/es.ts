// The staff app's messages in Spanish (docs/decisions.md, "Languages"),
// one part per area of the app so that each can be edited on its own.

import core from "./core/es";
import projects from "./projects/es";
import admin from "./admin/es";
import inbox from "./inbox/es";
import tasks from "./tasks/es";
import chat from "./chat/es";
import account from "./account/es";
import people from "./people/es";

export default { ...core, ...projects, ...admin, ...inbox, ...tasks, ...chat, ...account, ...people };
