package notify

import (
	"context"
	"fmt"
)

// The texts the notifier writes for a person (pushes, e-mail digests), in
// the languages the web app speaks (parley.Languages). English is the
// source and the fallback. Each entry is a fmt format, or, for a text
// with a count, one format per plural form in the order of the language's
// forms (pluralForms). A translation keeps the English arguments in
// their order, or names them (%[2]s). docs/decisions.md "Languages".
type forms []string

var texts = map[string]map[string]forms{
	"en": {
		// Pushes.
		"push.more":         {"New messages in %d more conversation", "New messages in %d more conversations"},
		"push.reminder":     {"Reminder"},
		"push.test":         {"Notifications reach this browser."},
		"push.call":         {"%s is calling"},
		"push.call.someone": {"Someone is calling"},
		"push.call.voice":   {"Voice call"},
		"push.call.video":   {"Video call"},
		// What a conversation is called when it has no title.
		"conv.customer":   {"A customer"},
		"conv.assistance": {"Assistance"},
		"conv.untitled":   {"A conversation"},
		// A message's preview.
		"msg.deleted": {"A deleted message"},
		"msg.file":    {"A file: %s"},
		"msg.files":   {"%d file", "%d files"},
		"msg.event":   {"News in the conversation"},
		"msg.other":   {"A message"},
		"msg.more":    {"%s (+%d more)"},
		// The e-mail digest.
		"mail.unread":            {"%d message unread", "%d messages unread"},
		"mail.subject.one":       {"%s in %s"},
		"mail.subject.many":      {"%s in %d conversation", "%s in %d conversations"},
		"mail.subject.reminders": {"%d reminder due in Parley", "%d reminders due in Parley"},
		"mail.hello":             {"Hello %s,"},
		"mail.conversations":     {"These conversations have messages you have not read:"},
		"mail.reminders":         {"Reminders that came due while you were away:"},
		"mail.open":              {"Open Parley: %s"},
		"mail.footer.link": {"You get this e-mail because messages waited unread for you. " +
			"To get it later, or never, change \"E-mail me about unread messages\" in your notification settings: %s"},
		"mail.footer": {"You get this e-mail because messages waited unread for you. " +
			"To get it later, or never, change \"E-mail me about unread messages\" in Parley's Settings, under Notifications."},
	},
	"ru": {
		"push.more":              {"Новые сообщения ещё в %d чате", "Новые сообщения ещё в %d чатах", "Новые сообщения ещё в %d чатах"},
		"push.reminder":          {"Напоминание"},
		"push.test":              {"Уведомления приходят в этот браузер."},
		"push.call":              {"%s звонит"},
		"push.call.someone":      {"Вам звонят"},
		"push.call.voice":        {"Голосовой звонок"},
		"push.call.video":        {"Видеозвонок"},
		"conv.customer":          {"Посетитель"},
		"conv.assistance":        {"Помощь"},
		"conv.untitled":          {"Чат"},
		"msg.deleted":            {"Удалённое сообщение"},
		"msg.file":               {"Файл: %s"},
		"msg.files":              {"%d файл", "%d файла", "%d файлов"},
		"msg.event":              {"Новое в чате"},
		"msg.other":              {"Сообщение"},
		"msg.more":               {"%s (и ещё %d)"},
		"mail.unread":            {"%d непрочитанное сообщение", "%d непрочитанных сообщения", "%d непрочитанных сообщений"},
		"mail.subject.one":       {"%s в чате «%s»"},
		"mail.subject.many":      {"%s в %d чате", "%s в %d чатах", "%s в %d чатах"},
		"mail.subject.reminders": {"%d напоминание в Parley", "%d напоминания в Parley", "%d напоминаний в Parley"},
		"mail.hello":             {"Здравствуйте, %s!"},
		"mail.conversations":     {"В этих чатах есть сообщения, которые вы не прочитали:"},
		"mail.reminders":         {"Напоминания, которые сработали, пока вас не было:"},
		"mail.open":              {"Открыть Parley: %s"},
		"mail.footer.link": {"Это письмо пришло, потому что вас ждали непрочитанные сообщения. " +
			"Чтобы получать его позже или не получать совсем, измените «Присылать письмо о непрочитанных сообщениях» в настройках уведомлений: %s"},
		"mail.footer": {"Это письмо пришло, потому что вас ждали непрочитанные сообщения. " +
			"Чтобы получать его позже или не получать совсем, измените «Присылать письмо о непрочитанных сообщениях» в настройках Parley, в разделе «Уведомления»."},
	},
	"es": {
		"push.more":              {"Mensajes nuevos en %d conversación más", "Mensajes nuevos en %d conversaciones más"},
		"push.reminder":          {"Recordatorio"},
		"push.test":              {"Las notificaciones llegan a este navegador."},
		"push.call":              {"%s te está llamando"},
		"push.call.someone":      {"Te están llamando"},
		"push.call.voice":        {"Llamada de voz"},
		"push.call.video":        {"Videollamada"},
		"conv.customer":          {"Visitante"},
		"conv.assistance":        {"Asistencia"},
		"conv.untitled":          {"Una conversación"},
		"msg.deleted":            {"Un mensaje eliminado"},
		"msg.file":               {"Un archivo: %s"},
		"msg.files":              {"%d archivo", "%d archivos"},
		"msg.event":              {"Novedades en la conversación"},
		"msg.other":              {"Un mensaje"},
		"msg.more":               {"%s (y %d más)"},
		"mail.unread":            {"%d mensaje sin leer", "%d mensajes sin leer"},
		"mail.subject.one":       {"%s en «%s»"},
		"mail.subject.many":      {"%s en %d conversación", "%s en %d conversaciones"},
		"mail.subject.reminders": {"%d recordatorio pendiente en Parley", "%d recordatorios pendientes en Parley"},
		"mail.hello":             {"Hola, %s:"},
		"mail.conversations":     {"Estas conversaciones tienen mensajes que no has leído:"},
		"mail.reminders":         {"Recordatorios que vencieron mientras no estabas:"},
		"mail.open":              {"Abrir Parley: %s"},
		"mail.footer.link": {"Recibes este correo porque tenías mensajes sin leer. " +
			"Para recibirlo más tarde, o nunca, cambia «Enviarme un correo sobre mensajes sin leer» en tus ajustes de notificaciones: %s"},
		"mail.footer": {"Recibes este correo porque tenías mensajes sin leer. " +
			"Para recibirlo más tarde, o nunca, cambia «Enviarme un correo sobre mensajes sin leer» en los Ajustes de Parley, en Notificaciones."},
	},
}

// pluralForms are a language's plural categories for whole numbers, in
// the order its texts give them (CLDR).
var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"es": {"one", "other"},
	"ru": {"one", "few", "many"},
}

// plural is the CLDR plural category of a whole number n in lang:
// Russian one (1, 21, 101…), few (2–4, 22–24…), many (0, 5–20, 25…);
// English and Spanish one (1) and other.
func plural(lang string, n int64) string {
	if n < 0 {
		n = -n
	}
	if lang == "ru" {
		switch d, h := n%10, n%100; {
		case d == 1 && h != 11:
			return "one"
		case d >= 2 && d <= 4 && (h < 12 || h > 14):
			return "few"
		}
		return "many"
	}
	if n == 1 {
		return "one"
	}
	return "other"
}

// language is the language a user's texts are written in: their
// preference, English for "" (the browser's, which the server cannot
// know) or a language the notifier does not speak.
func (s *Service) language(ctx context.Context, userID int64) string {
	set, err := s.store.UserSettings(ctx, userID)
	if err != nil {
		return "en"
	}
	return lang(set.Language)
}

// lang is l if the notifier speaks it, else English.
func lang(l string) string {
	if _, ok := texts[l]; ok {
		return l
	}
	return "en"
}

// tr writes the text key in lang with args.
func tr(lang, key string, args ...any) string {
	f, _ := lookup(lang, key)
	return format(f, 0, args)
}

// trn writes the text key in lang in the plural form of n, with args (n
// is not added to them: the caller passes it where the text has it).
func trn(lang string, key string, n int64, args ...any) string {
	f, l := lookup(lang, key)
	if len(f) > 1 {
		cat := plural(l, n)
		for i, c := range pluralForms[l] {
			if c == cat && i < len(f) {
				return format(f, i, args)
			}
		}
	}
	return format(f, len(f)-1, args)
}

// lookup is key's forms in lang, else in English, and the language of
// the forms.
func lookup(l, key string) (forms, string) {
	l = lang(l)
	if f, ok := texts[l][key]; ok && len(f) > 0 {
		return f, l
	}
	if f, ok := texts["en"][key]; ok && len(f) > 0 {
		return f, "en"
	}
	return forms{key}, "en"
}

func format(f forms, i int, args []any) string {
	if len(args) == 0 {
		return f[i]
	}
	return fmt.Sprintf(f[i], args...)
}
