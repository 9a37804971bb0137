// The staff app's messages in English, area "core" (keys app.core.*): the
// source catalogue (../../i18n.ts). Keys are stable; change a text here and
// in ru.ts and es.ts together.

export default {
  "app.core.message.notSent": "The message could not be sent",
  "app.core.session.ended": "Your session has ended. Please sign in again.",
  "app.core.name.system": "System",
  "app.core.name.visitor": "Visitor",
  "app.core.name.someone": "Someone",
  "app.core.title.direct": "Direct message",
  "app.core.title.assistance": "Assistance",
  "app.core.title.assistanceOf": "Assistance: {name}",
  "app.core.title.assistanceOfSomeone": "Assistance: user",
  "app.core.title.multi": "Multi-chat",
  "app.core.conversation.removed": "You are no longer a member of that conversation.",
  "app.core.api.failed": "Request failed",
  "app.core.api.unreachable": "The server cannot be reached. Check your connection.",
  "app.core.upload.failed": "Upload failed",
  "app.core.upload.unreachable": "The upload failed: the server cannot be reached.",
  "app.core.upload.cancelled": "Upload cancelled",
  "app.core.realtime.refused": "The server refused a frame ({code}). Reload the page.",
} as const satisfies Record<string, string>;
