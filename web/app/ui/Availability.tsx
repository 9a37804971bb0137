// The user's own availability for the distribution (Available, Busy,
// Break) with its coloured dot, for the specialists of a project (the
// distribution gives dialogs to no one else): beside their name at the
// top of the sidebar, and in the inbox's header, so they see and change it
// wherever they are (chats, inbox, queue).

import { t } from "../../i18n/i18n";
import * as live from "../livechat";
import * as routing from "../routing";
import { use } from "../sig";
import { Menu, useMenu } from "./common";

export function AvailabilityButton() {
  const a = use(routing.availability);
  const specialist = use(live.isSpecialist);
  const menu = useMenu();
  if (!a || !specialist) return null;
  const label = routing.availabilityLabel(a.availability);
  const hint = routing.AVAILABILITIES.find((x) => x.value === a.availability)?.hint || "";
  return (
    <>
      <button
        class={"avail-btn " + a.availability}
        data-availability={a.availability}
        aria-haspopup="menu"
        aria-label={t("app.inbox.availability.label", { label })}
        title={`${label}: ${hint.toLowerCase()}`}
        onClick={(e) => menu.open(e.currentTarget as HTMLElement)}
      >
        <span class={"avail-dot " + a.availability} aria-hidden="true" />
        <span class="avail-label">{label}</span>
        <span class="chev" aria-hidden="true">
          ▾
        </span>
      </button>
      {menu.at ? (
        <Menu
          x={menu.at.x}
          y={menu.at.y}
          label={t("app.inbox.availability.menu")}
          onClose={menu.close}
          items={routing.AVAILABILITIES.map((x) => ({
            label: x.label,
            checked: x.value === a.availability,
            onSelect: () => {
              if (x.value !== a.availability) routing.setAvailability(x.value);
            },
          }))}
        />
      ) : null}
    </>
  );
}
