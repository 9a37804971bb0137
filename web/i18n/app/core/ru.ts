// The staff app's messages in Russian, area "core" (source: en.ts).

import type en from "./en";

const ru: Record<keyof typeof en, string> = {
  "app.core.message.notSent": "Не удалось отправить сообщение",
  "app.core.session.ended": "Сеанс завершён. Войдите снова.",
  "app.core.name.system": "Система",
  "app.core.name.visitor": "Посетитель",
  "app.core.name.someone": "Кто-то",
  "app.core.title.direct": "Личный чат",
  "app.core.title.assistance": "Помощь",
  "app.core.title.assistanceOf": "Помощь: {name}",
  "app.core.title.assistanceOfSomeone": "Помощь: пользователь",
  "app.core.title.multi": "Групповой чат",
  "app.core.conversation.removed": "Вы больше не участник этого чата.",
  "app.core.api.failed": "Запрос не выполнен",
  "app.core.api.unreachable": "Сервер недоступен. Проверьте подключение.",
  "app.core.upload.failed": "Не удалось загрузить файл",
  "app.core.upload.unreachable": "Файл не загружен: сервер недоступен.",
  "app.core.upload.cancelled": "Загрузка отменена",
  "app.core.realtime.refused": "Сервер отклонил кадр ({code}). Перезагрузите страницу.",
};

export default ru;
