// The staff app's messages in English, area "projects" (keys app.projects.*): the
// source catalogue (../../i18n.ts). Keys are stable; change a text here and
// in ru.ts and es.ts together.

export default {
} as const satisfies Record<string, string>;
