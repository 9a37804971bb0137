package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/notify/pushtest"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestPlural checks the plural categories against CLDR's for whole
// numbers: Russian one/few/many, English and Spanish one/other.
func TestPlural(t *testing.T) {
	for lang, want := range map[string]map[int64]string{
		"ru": {0: "many", 1: "one", 2: "few", 3: "few", 4: "few", 5: "many", 10: "many", 11: "many", 12: "many", 14: "many",
			15: "many", 21: "one", 22: "few", 24: "few", 25: "many", 101: "one", 111: "many", 112: "many", 122: "few", 1001: "one", -1: "one"},
		"en": {0: "other", 1: "one", 2: "other", 5: "other", 21: "other", 101: "other"},
		"es": {0: "other", 1: "one", 2: "other", 5: "other", 21: "other", 101: "other"},
	} {
		for n, cat := range want {
			if got := plural(lang, n); got != cat {
				t.Errorf("plural(%s, %d) = %s, want %s", lang, n, got, cat)
			}
		}
	}
}

var verb = regexp.MustCompile(`%(\[\d+\])?[a-z]`)

// TestTexts fails on a key a language lacks or has alone, on a wrong
// number of plural forms, on a translation whose arguments differ from
// the English, and on a key no source uses.
func TestTexts(t *testing.T) {
	if len(texts) != len(parley.Languages) {
		t.Errorf("texts in %d languages, the app speaks %v", len(texts), parley.Languages)
	}
	en := texts["en"]
	for _, lang := range parley.Languages {
		tab, ok := texts[lang]
		if !ok {
			t.Errorf("no texts in %s", lang)
			continue
		}
		if len(pluralForms[lang]) == 0 {
			t.Errorf("no plural forms for %s", lang)
		}
		for key := range en {
			if _, ok := tab[key]; !ok {
				t.Errorf("%s lacks %q", lang, key)
			}
		}
		for key, f := range tab {
			src, ok := en[key]
			if !ok {
				t.Errorf("%s has %q, which English lacks", lang, key)
				continue
			}
			want := 1
			if len(src) > 1 {
				want = len(pluralForms[lang])
			}
			if len(f) != want {
				t.Errorf("%s %q has %d forms, want %d", lang, key, len(f), want)
			}
			args := verbs(src[len(src)-1])
			for _, form := range f {
				if got := verbs(form); got != args {
					t.Errorf("%s %q: %q has arguments %s, English %s", lang, key, form, got, args)
				}
			}
		}
	}
	// Every key is written whole in a source of the package.
	var src strings.Builder
	for _, name := range []string{"deliver.go", "email.go", "notify.go"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	for key := range en {
		if !strings.Contains(src.String(), `"`+key+`"`) {
			t.Errorf("%q is not used", key)
		}
	}
}

// verbs is a format's arguments, sorted when numbered (a translation may
// reorder them).
func verbs(format string) string {
	vs := verb.FindAllString(format, -1)
	for _, v := range vs {
		if strings.Contains(v, "[") {
			slices.Sort(vs)
			break
		}
	}
	return strings.Join(vs, " ")
}

// TestPushTexts checks a push's texts in each language: the summary of
// more conversations with Russian plurals, previews, and an unknown
// language written in English.
func TestPushTexts(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int64
		want string
	}{
		{"ru", 1, "Новые сообщения ещё в 1 чате"},
		{"ru", 2, "Новые сообщения ещё в 2 чатах"},
		{"ru", 5, "Новые сообщения ещё в 5 чатах"},
		{"ru", 11, "Новые сообщения ещё в 11 чатах"},
		{"ru", 21, "Новые сообщения ещё в 21 чате"},
		{"ru", 22, "Новые сообщения ещё в 22 чатах"},
		{"es", 1, "Mensajes nuevos en 1 conversación más"},
		{"es", 5, "Mensajes nuevos en 5 conversaciones más"},
		{"en", 1, "New messages in 1 more conversation"},
		{"en", 5, "New messages in 5 more conversations"},
		{"en", 21, "New messages in 21 more conversations"},
		{"de", 5, "New messages in 5 more conversations"},
		{"", 2, "New messages in 2 more conversations"},
	} {
		if got := trn(tc.lang, "push.more", tc.n, tc.n); got != tc.want {
			t.Errorf("push.more in %q for %d = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	files := []parley.File{{Name: "a.pdf"}, {Name: "b.png"}}
	for _, tc := range []struct {
		m    parley.Message
		want map[string]string
	}{
		{parley.Message{Text: "  hello\n  world "}, map[string]string{"en": "hello world", "ru": "hello world"}},
		{parley.Message{Text: "x", DeletedAt: time.Unix(1, 0)}, map[string]string{"en": "A deleted message", "ru": "Удалённое сообщение", "es": "Un mensaje eliminado"}},
		{parley.Message{Files: files[:1]}, map[string]string{"en": "A file: a.pdf", "ru": "Файл: a.pdf", "es": "Un archivo: a.pdf"}},
		{parley.Message{Files: files}, map[string]string{"en": "2 files", "ru": "2 файла", "es": "2 archivos"}},
		{parley.Message{Files: slices.Repeat(files, 3)[:5]}, map[string]string{"en": "5 files", "ru": "5 файлов", "es": "5 archivos"}},
		{parley.Message{Kind: parley.MsgEvent}, map[string]string{"en": "News in the conversation", "ru": "Новое в чате", "es": "Novedades en la conversación"}},
		{parley.Message{}, map[string]string{"en": "A message", "ru": "Сообщение", "es": "Un mensaje", "fr": "A message"}},
	} {
		for lang, want := range tc.want {
			if got := preview(lang, &tc.m); got != want {
				t.Errorf("preview in %s of %+v = %q, want %q", lang, tc.m, got, want)
			}
		}
	}
	for _, tc := range []struct {
		lang        string
		note        parley.NotifyNote
		title, body string
	}{
		{"ru", parley.NotifyNote{Kind: "test", Title: "Parley", Body: "Notifications reach this browser."}, "Parley", "Уведомления приходят в этот браузер."},
		{"es", parley.NotifyNote{Kind: "test", Title: "Parley", Body: "Notifications reach this browser."}, "Parley", "Las notificaciones llegan a este navegador."},
		{"en", parley.NotifyNote{Kind: "test", Title: "Parley", Body: "Notifications reach this browser."}, "Parley", "Notifications reach this browser."},
		{"ru", CallNote(1, "Ann Lee", true, "/c/1", "call-1"), "Ann Lee звонит", "Видеозвонок"},
		{"es", CallNote(1, "Ann Lee", false, "/c/1", "call-1"), "Ann Lee te está llamando", "Llamada de voz"},
		{"en", CallNote(1, "Ann Lee", false, "/c/1", "call-1"), "Ann Lee is calling", "Voice call"},
		{"en", CallNote(1, "", true, "/c/1", "call-1"), "Someone is calling", "Video call"},
		{"ru", CallNote(1, "", false, "/c/1", "call-1"), "Вам звонят", "Голосовой звонок"},
		// Another service's note goes as it was queued.
		{"ru", parley.NotifyNote{Kind: "mention", Title: "Launch", Body: "@Bob look"}, "Launch", "@Bob look"},
	} {
		if title, body := noteText(tc.lang, &tc.note); title != tc.title || body != tc.body {
			t.Errorf("note %+v in %s: %q, %q; want %q, %q", tc.note, tc.lang, title, body, tc.title, tc.body)
		}
	}
}

// TestDigestTexts checks a digest's subject and text: English exactly as
// it always was, Spanish and Russian with their plurals, an unknown
// language in English.
func TestDigestTexts(t *testing.T) {
	s := &Service{cfg: Config{PublicURL: "https://parley.example/"}}
	u := &parley.User{Name: "Eve Hall"}
	launch := digestLine{title: "Launch", preview: "Ann Lee: all hands at ten", url: "https://parley.example/c/7", unread: 2}
	dm := digestLine{title: "Ann Lee", preview: "Ann Lee: first", url: "https://parley.example/c/3", unread: 1}
	rem := digestLine{preview: "A message", url: "https://parley.example/c/3?m=9"}
	wantEN := "Hello Eve Hall,\n\n" +
		"These conversations have messages you have not read:\n\n" +
		"* Launch: 2 messages unread\n  Ann Lee: all hands at ten\n  https://parley.example/c/7\n\n" +
		"* Ann Lee: 1 message unread\n  Ann Lee: first\n  https://parley.example/c/3\n\n" +
		"Reminders that came due while you were away:\n\n" +
		"* A message\n  https://parley.example/c/3?m=9\n\n" +
		"Open Parley: https://parley.example/\n\n" +
		"-- \nYou get this e-mail because messages waited unread for you. To get it later, or never, change \"E-mail me about unread messages\" " +
		"in your notification settings: https://parley.example/settings#notifications\n"
	for _, lang := range []string{"en", "", "de"} {
		if got := s.digestText(lang, u, []digestLine{launch, dm}, []digestLine{rem}); got != wantEN {
			t.Errorf("digest in %q:\n%s\nwant\n%s", lang, got, wantEN)
		}
	}
	noURL := &Service{}
	if got, want := noURL.digestText("en", u, nil, []digestLine{{preview: "A message"}}),
		"Hello Eve Hall,\n\nReminders that came due while you were away:\n\n* A message\n\n"+
			"-- \nYou get this e-mail because messages waited unread for you. To get it later, or never, change \"E-mail me about unread messages\" "+
			"in Parley's Settings, under Notifications.\n"; got != want {
		t.Errorf("digest without a public URL:\n%s\nwant\n%s", got, want)
	}
	es := s.digestText("es", u, []digestLine{launch}, nil)
	for _, want := range []string{"Hola, Eve Hall:\n\n", "Estas conversaciones tienen mensajes que no has leído:", "* Launch: 2 mensajes sin leer\n",
		"Abrir Parley: https://parley.example/", "ajustes de notificaciones: https://parley.example/settings#notifications\n"} {
		if !strings.Contains(es, want) {
			t.Errorf("the Spanish digest lacks %q:\n%s", want, es)
		}
	}
	ru := s.digestText("ru", u, []digestLine{launch, dm}, []digestLine{rem})
	for _, want := range []string{"Здравствуйте, Eve Hall!\n\n", "* Launch: 2 непрочитанных сообщения\n", "* Ann Lee: 1 непрочитанное сообщение\n",
		"Напоминания, которые сработали, пока вас не было:", "Открыть Parley: https://parley.example/"} {
		if !strings.Contains(ru, want) {
			t.Errorf("the Russian digest lacks %q:\n%s", want, ru)
		}
	}
	many := func(n int64) []digestLine {
		return []digestLine{{title: "A", unread: n - 1}, {title: "B", unread: 1}}
	}
	for _, tc := range []struct {
		lang        string
		lines, rems []digestLine
		want        string
	}{
		{"en", many(3), nil, "3 messages unread in 2 conversations"},
		{"en", []digestLine{launch}, nil, "2 messages unread in Launch"},
		{"en", []digestLine{dm}, nil, "1 message unread in Ann Lee"},
		{"en", nil, []digestLine{rem}, "1 reminder due in Parley"},
		{"en", nil, []digestLine{rem, rem}, "2 reminders due in Parley"},
		{"de", many(3), nil, "3 messages unread in 2 conversations"},
		{"es", many(3), nil, "3 mensajes sin leer en 2 conversaciones"},
		{"es", []digestLine{dm}, nil, "1 mensaje sin leer en «Ann Lee»"},
		{"es", nil, []digestLine{rem}, "1 recordatorio pendiente en Parley"},
		{"ru", many(2), nil, "2 непрочитанных сообщения в 2 чатах"},
		{"ru", many(5), nil, "5 непрочитанных сообщений в 2 чатах"},
		{"ru", many(21), nil, "21 непрочитанное сообщение в 2 чатах"},
		{"ru", []digestLine{launch}, nil, "2 непрочитанных сообщения в чате «Launch»"},
		{"ru", nil, []digestLine{rem, rem, rem, rem, rem}, "5 напоминаний в Parley"},
	} {
		if got := subject(tc.lang, tc.lines, tc.rems); got != tc.want {
			t.Errorf("subject in %q = %q, want %q", tc.lang, got, tc.want)
		}
	}
}

// mailbox is a Mailer that keeps what it is given.
type mailbox struct {
	mu   sync.Mutex
	sent []parley.Mail
}

func (m *mailbox) Send(_ context.Context, mail parley.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, mail)
	return nil
}

// TestDeliveriesInLanguage delivers pushes (decrypted by the test push
// service) and digests from a real store to users who chose Russian,
// Spanish, the browser's language ("") and a language Parley does not
// speak ("de", as an old row could hold): each in their language, the
// last two in English as always.
func TestDeliveriesInLanguage(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		bus := inmem.NewBus()
		t.Cleanup(func() { bus.Close() })
		pres := presence.New(st, bus, nil)
		t.Cleanup(pres.Close)
		base := parley.Now()
		now := base
		mail := &mailbox{}
		svc, err := New(ctx, st, bus, pres, Config{Mailer: mail, PublicURL: "https://parley.example",
			InsecureHosts: []string{"127.0.0.1"}, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(svc.client.CloseIdleConnections)
		ps := pushtest.New(t)
		ps.ExpectVAPIDKey(svc.VAPIDPublicKey())

		write := func(fn func(tx parley.Tx) error) {
			t.Helper()
			if _, err := st.Write(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		user := func(name, lang string) *parley.User {
			u := &parley.User{Email: strings.ToLower(strings.Fields(name)[0]) + "@x.test", Name: name, Role: parley.RoleMember, Active: true}
			write(func(tx parley.Tx) error {
				if err := tx.CreateUser(ctx, u, "h"); err != nil {
					return err
				}
				return tx.SetUserSettings(ctx, u.ID, parley.Settings{Language: lang})
			})
			return u
		}
		ann, bob, cat, dan, eve := user("Ann Lee", "en"), user("Bob Stone", "ru"), user("Cat Díaz", "es"), user("Dan Ross", "de"), user("Eve Hall", "")
		subs := map[string]string{} // push subscription → user
		for _, u := range []*parley.User{bob, dan} {
			sub := ps.Subscribe()
			in := SubscriptionInput{Endpoint: sub.Endpoint}
			in.Keys.P256DH, in.Keys.Auth = sub.P256DH, sub.Auth
			if _, err := svc.Subscribe(ctx, u, in); err != nil {
				t.Fatal(err)
			}
			subs[sub.ID] = u.Name
		}
		for _, u := range []*parley.User{ann, bob, cat, dan, eve} {
			set, err := st.NotifySettings(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			set.EmailAfterMinutes = 15
			if u == ann {
				set.EmailAfterMinutes = 0 // her own messages are unread here
			}
			write(func(tx parley.Tx) error { return tx.(Tx).SetNotifySettings(ctx, u.ID, set) })
		}
		at := base.Add(time.Minute)
		conv := func(title string, members ...*parley.User) *parley.Conversation {
			c := &parley.Conversation{Kind: parley.KindGroup, State: parley.StateAllowed, Title: title, CreatedBy: ann.ID}
			write(func(tx parley.Tx) error {
				if err := tx.CreateConversation(ctx, c); err != nil {
					return err
				}
				for _, u := range append([]*parley.User{ann}, members...) {
					if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: u.ID}); err != nil {
						return err
					}
				}
				return nil
			})
			return c
		}
		send := func(c *parley.Conversation, text string) *parley.Message {
			at = at.Add(time.Second)
			m := &parley.Message{ConversationID: c.ID, Kind: parley.MsgText, SenderID: ann.ID, Text: text, CreatedAt: at}
			write(func(tx parley.Tx) error { return tx.InsertMessage(ctx, m) })
			return m
		}
		// Bob has 8 conversations unread: 3 pushes and "5 more"; Dan and
		// Eve the first, with two messages.
		launch := conv("Launch", bob, dan, eve)
		send(launch, "первое")
		first := send(launch, "второе")
		for i := range 7 {
			send(conv(fmt.Sprintf("Chat %d", i+2), bob, cat), "hi")
		}
		write(func(tx parley.Tx) error {
			return tx.PutReminder(ctx, &parley.Reminder{UserID: bob.ID, MessageID: first.ID, ConversationID: launch.ID, RemindAt: at, CreatedAt: at})
		})

		now = at.Add(time.Minute)
		if err := svc.messages(ctx); err != nil {
			t.Fatal(err)
		}
		if err := svc.reminders(ctx); err != nil {
			t.Fatal(err)
		}
		if err := svc.Test(ctx, bob); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*parley.User{bob, dan} {
			if err := svc.Notify(ctx, CallNote(u.ID, "Ann Lee", true, "/c/1", "call-1")); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.notes(ctx); err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, p := range ps.Wait(t, 9, 10*time.Second) {
			var pl Payload
			if err := json.Unmarshal(p.Payload, &pl); err != nil {
				t.Fatal(err)
			}
			got[subs[p.Sub]] = append(got[subs[p.Sub]], pl.Kind+" | "+pl.Title+" | "+pl.Body)
		}
		for name, want := range map[string][]string{
			"Bob Stone": {"message | Ann Lee · Launch | второе (и ещё 1)", "message | Parley | Новые сообщения ещё в 5 чатах",
				"reminder | Напоминание | второе", "test | Parley | Уведомления приходят в этот браузер.", "call | Ann Lee звонит | Видеозвонок"},
			"Dan Ross": {"message | Ann Lee · Launch | второе (+1 more)", "call | Ann Lee is calling | Video call"},
		} {
			for _, w := range want {
				if !slices.Contains(got[name], w) {
					t.Errorf("%s's pushes lack %q: %q", name, w, got[name])
				}
			}
		}
		if n := len(got["Bob Stone"]); n != 7 {
			t.Errorf("Bob got %d pushes, want 7: %q", n, got["Bob Stone"])
		}

		// The digests, an hour later.
		now = at.Add(time.Hour)
		if err := svc.emails(ctx); err != nil {
			t.Fatal(err)
		}
		mails := map[string]parley.Mail{}
		for _, m := range mail.sent {
			mails[m.To] = m
		}
		if len(mails) != 4 {
			t.Fatalf("digests to %v, want Bob, Cat, Dan and Eve", slices.Collect(maps.Keys(mails)))
		}
		for _, tc := range []struct {
			to      *parley.User
			subject string
			text    []string
		}{
			{bob, "9 непрочитанных сообщений в 8 чатах", []string{"Здравствуйте, Bob Stone!\n", "* Launch: 2 непрочитанных сообщения\n  Ann Lee: второе\n",
				"* Chat 2: 1 непрочитанное сообщение\n", "Напоминания, которые сработали, пока вас не было:\n\n* второе\n"}},
			{cat, "7 mensajes sin leer en 7 conversaciones", []string{"Hola, Cat Díaz:\n\nEstas conversaciones tienen mensajes que no has leído:\n\n* Chat 2: 1 mensaje sin leer\n  Ann Lee: hi\n"}},
			{dan, "2 messages unread in Launch", []string{"Hello Dan Ross,\n\nThese conversations have messages you have not read:\n\n* Launch: 2 messages unread\n  Ann Lee: второе\n"}},
			{eve, "2 messages unread in Launch", []string{"Hello Eve Hall,\n", "\n-- \nYou get this e-mail because messages waited unread for you."}},
		} {
			m := mails[tc.to.Email]
			if m.Subject != tc.subject {
				t.Errorf("%s's digest is about %q, want %q", tc.to.Name, m.Subject, tc.subject)
			}
			for _, w := range tc.text {
				if !strings.Contains(m.Text, w) {
					t.Errorf("%s's digest lacks %q:\n%s", tc.to.Name, w, m.Text)
				}
			}
		}
	})
}
