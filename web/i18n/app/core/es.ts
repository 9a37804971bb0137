// The staff app's messages in Spanish, area "core" (source: en.ts).

import type en from "./en";

const es: Record<keyof typeof en, string> = {
  "app.core.message.notSent": "No se pudo enviar el mensaje",
  "app.core.session.ended": "Tu sesión ha terminado. Vuelve a iniciar sesión.",
  "app.core.name.system": "Sistema",
  "app.core.name.visitor": "Visitante",
  "app.core.name.someone": "Alguien",
  "app.core.title.direct": "Chat privado",
  "app.core.title.assistance": "Asistencia",
  "app.core.title.assistanceOf": "Asistencia: {name}",
  "app.core.title.assistanceOfSomeone": "Asistencia: usuario",
  "app.core.title.multi": "Chat grupal",
  "app.core.conversation.removed": "Ya no eres miembro de esa conversación.",
  "app.core.api.failed": "La solicitud falló",
  "app.core.api.unreachable": "No se puede conectar con el servidor. Revisa tu conexión.",
  "app.core.upload.failed": "No se pudo subir el archivo",
  "app.core.upload.unreachable": "No se pudo subir el archivo: no hay conexión con el servidor.",
  "app.core.upload.cancelled": "Subida cancelada",
  "app.core.realtime.refused": "El servidor rechazó un mensaje ({code}). Recarga la página.",
};

export default es;
