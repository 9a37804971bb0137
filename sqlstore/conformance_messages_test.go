package sqlstore_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

func TestInsertMessage(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		a, b := us[0], us[1]
		c1 := newConv(t, s, parley.KindDirect, "d", a, b)
		c2 := newConv(t, s, parley.KindGroup, "", a, b)

		// Seqs count per conversation, independently, even when two
		// conversations get messages in one transaction.
		sends := []struct {
			conv *parley.Conversation
			want int64
		}{{c1, 1}, {c2, 1}, {c1, 2}, {c1, 3}, {c2, 2}}
		for _, sd := range sends {
			if m := send(t, s, sd.conv, a, "x"); m.Seq != sd.want || m.ID == 0 {
				t.Errorf("message in %d: seq %d id %d, want seq %d", sd.conv.ID, m.Seq, m.ID, sd.want)
			}
		}
		var m1, m2 *parley.Message
		mustWrite(t, s, func(tx parley.Tx) error {
			m1 = &parley.Message{ConversationID: c1.ID, SenderID: b.ID, Kind: parley.MsgText, Text: "one"}
			m2 = &parley.Message{ConversationID: c2.ID, SenderID: b.ID, Kind: parley.MsgText, Text: "two"}
			if err := tx.InsertMessage(ctx, m1); err != nil {
				return err
			}
			return tx.InsertMessage(ctx, m2)
		})
		if m1.Seq != 4 || m2.Seq != 3 {
			t.Errorf("seqs in one transaction = %d, %d, want 4, 3", m1.Seq, m2.Seq)
		}
		for _, want := range []struct {
			c    *parley.Conversation
			last int64
		}{{c1, 4}, {c2, 3}} {
			got, err := s.ConversationByID(ctx, want.c.ID)
			must(t, err)
			if got.LastSeq != want.last || got.LastMessageAt.Before(want.c.CreatedAt) {
				t.Errorf("conversation %d: LastSeq %d LastMessageAt %v", want.c.ID, got.LastSeq, got.LastMessageAt)
			}
		}
		err := writeErr(t, s, func(tx parley.Tx) error {
			return tx.InsertMessage(ctx, &parley.Message{ConversationID: c2.ID + 1000, Kind: parley.MsgText, Text: "x"})
		})
		wantCode(t, err, parley.ENOTFOUND)

		// Every field survives the round trip.
		f := &parley.File{OwnerID: a.ID, Name: "a.png", ContentType: "image/png", Size: 10, Width: 4, Height: 3, HasThumb: true, CreatedAt: baseTime}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.CreateFile(ctx, f) })
		full := &parley.Message{ConversationID: c1.ID, SenderID: a.ID, Kind: parley.MsgFile, Text: "see «this» 'file' \"now\"",
			QuoteID: m1.ID, Quote: &parley.Quote{ID: m1.ID, SenderID: b.ID, Text: "one"}, ClientID: "client-1",
			Files: []parley.File{*f}, CreatedAt: baseTime}
		system := &parley.Message{ConversationID: c1.ID, Kind: parley.MsgEvent,
			Event: &parley.SystemEvent{Action: parley.ActionJoined, ActorID: a.ID, UserIDs: []int64{b.ID}}}
		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.InsertMessage(ctx, full); err != nil {
				return err
			}
			return tx.InsertMessage(ctx, system)
		})
		reads := map[string]func() (*parley.Message, error){
			"MessageByID":       func() (*parley.Message, error) { return s.MessageByID(ctx, full.ID) },
			"MessageBySeq":      func() (*parley.Message, error) { return s.MessageBySeq(ctx, c1.ID, full.Seq) },
			"MessageByClientID": func() (*parley.Message, error) { return s.MessageByClientID(ctx, a.ID, "client-1") },
		}
		for name, read := range reads {
			got, err := read()
			must(t, err)
			if got.ID != full.ID || got.ConversationID != c1.ID || got.Seq != 5 || got.SenderID != a.ID || got.Kind != parley.MsgFile ||
				got.Text != full.Text || got.QuoteID != m1.ID || got.Quote == nil || *got.Quote != *full.Quote ||
				got.ClientID != "client-1" || len(got.Files) != 1 || got.Files[0] != *f || !got.CreatedAt.Equal(baseTime) ||
				!got.EditedAt.IsZero() || got.Deleted() || got.Event != nil {
				t.Errorf("%s = %+v, want %+v", name, got, full)
			}
		}
		got, err := s.MessageBySeq(ctx, c1.ID, 6)
		must(t, err)
		if got.ID != system.ID || got.SenderID != 0 || got.Event == nil || got.Event.Action != parley.ActionJoined ||
			!slices.Equal(got.Event.UserIDs, []int64{b.ID}) || got.Quote != nil || got.Files != nil || got.ClientID != "" {
			t.Errorf("system line = %+v (event %+v)", got, got.Event)
		}
		for name, read := range map[string]func() (*parley.Message, error){
			"MessageByID":       func() (*parley.Message, error) { return s.MessageByID(ctx, full.ID+1000) },
			"MessageBySeq":      func() (*parley.Message, error) { return s.MessageBySeq(ctx, c1.ID, 99) },
			"MessageByClientID": func() (*parley.Message, error) { return s.MessageByClientID(ctx, b.ID, "client-1") },
		} {
			_, err := read()
			if parley.ErrorCode(err) != parley.ENOTFOUND {
				t.Errorf("%s of a missing message: %v", name, err)
			}
		}
	})
}

func TestMessageClientID(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		a, b := us[0], us[1]
		c1 := newConv(t, s, parley.KindDirect, "d", a, b)
		c2 := newConv(t, s, parley.KindGroup, "", a, b)
		insert := func(c *parley.Conversation, from *parley.User, clientID string) error {
			return writeErr(t, s, func(tx parley.Tx) error {
				return tx.InsertMessage(ctx, &parley.Message{ConversationID: c.ID, SenderID: from.ID, Kind: parley.MsgText, Text: "x", ClientID: clientID})
			})
		}
		steps := []struct {
			name     string
			conv     *parley.Conversation
			from     *parley.User
			clientID string
			want     string
		}{
			{"first", c1, a, "abc", ""},
			{"retry", c1, a, "abc", parley.ECONFLICT},
			{"retry in another conversation", c2, a, "abc", parley.ECONFLICT},
			{"same id, other sender", c1, b, "abc", ""},
			{"other id", c1, a, "abd", ""},
			{"no client id", c1, a, "", ""},
			{"no client id again", c1, a, "", ""},
		}
		for _, st := range steps {
			if got := parley.ErrorCode(insert(st.conv, st.from, st.clientID)); got != st.want {
				t.Errorf("%s: error code %q, want %q", st.name, got, st.want)
			}
		}
		// The failed inserts took no seq.
		c, err := s.ConversationByID(ctx, c1.ID)
		must(t, err)
		msgs, err := s.Messages(ctx, c1.ID, parley.MessagePage{})
		must(t, err)
		if c.LastSeq != 5 || len(msgs) != 5 || msgs[4].Seq != 5 {
			t.Errorf("after duplicates: LastSeq %d, %d messages", c.LastSeq, len(msgs))
		}
		if c, err := s.ConversationByID(ctx, c2.ID); err != nil || c.LastSeq != 0 {
			t.Errorf("c2 after a duplicate: %+v, %v", c, err)
		}
		m, err := s.MessageByClientID(ctx, a.ID, "abc")
		must(t, err)
		if m.ConversationID != c1.ID || m.Seq != 1 {
			t.Errorf("MessageByClientID = %+v, want the first message", m)
		}

		// A caller may go on after a conflict in the same transaction (the
		// group commit fails only that send): the conflicting insert must
		// have taken no seq, or the transaction must not commit.
		var dupErr error
		_, werr := s.Write(ctx, func(tx parley.Tx) error {
			dupErr = tx.InsertMessage(ctx, &parley.Message{ConversationID: c1.ID, SenderID: a.ID, Kind: parley.MsgText, Text: "dup", ClientID: "abc"})
			return tx.InsertMessage(ctx, &parley.Message{ConversationID: c1.ID, SenderID: a.ID, Kind: parley.MsgText, Text: "next", ClientID: "next"})
		})
		wantCode(t, dupErr, parley.ECONFLICT)
		c, err = s.ConversationByID(ctx, c1.ID)
		must(t, err)
		msgs, err = s.Messages(ctx, c1.ID, parley.MessagePage{})
		must(t, err)
		last, err2 := s.LastMessages(ctx, []int64{c1.ID})
		must(t, err2)
		if int64(len(msgs)) != c.LastSeq || msgs[len(msgs)-1].Seq != c.LastSeq || last[c1.ID] == nil {
			t.Errorf("after a conflict inside a committed write (err %v): LastSeq %d but %d messages, newest %+v",
				werr, c.LastSeq, len(msgs), last[c1.ID])
		}
	})
}

func TestMessagesPaging(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 1)
		c := newConv(t, s, parley.KindGroup, "", us[0])
		other := newConv(t, s, parley.KindGroup, "", us[0])
		// Message seq n is created at second n.
		at := func(seq int) time.Time { return baseTime.Add(time.Duration(seq) * time.Second) }
		mustWrite(t, s, func(tx parley.Tx) error {
			for i := 1; i <= 25; i++ {
				for _, conv := range []*parley.Conversation{c, other} {
					m := &parley.Message{ConversationID: conv.ID, SenderID: us[0].ID, Kind: parley.MsgText, Text: "m", CreatedAt: at(i)}
					if err := tx.InsertMessage(ctx, m); err != nil {
						return err
					}
				}
			}
			return nil
		})
		span := func(from, to int64) []int64 {
			var out []int64
			for i := from; i <= to; i++ {
				out = append(out, i)
			}
			return out
		}
		tests := []struct {
			name string
			p    parley.MessagePage
			want []int64 // seqs
		}{
			{"newest, default limit", parley.MessagePage{}, span(1, 25)},
			{"newest page", parley.MessagePage{Limit: 10}, span(16, 25)},
			{"before", parley.MessagePage{Before: 16, Limit: 10}, span(6, 15)},
			{"before, short page", parley.MessagePage{Before: 6, Limit: 10}, span(1, 5)},
			{"before the first", parley.MessagePage{Before: 1}, nil},
			{"after, forward", parley.MessagePage{After: 5, Limit: 10}, span(6, 15)},
			{"after, to the end", parley.MessagePage{After: 20, Limit: 10}, span(21, 25)},
			{"after the last", parley.MessagePage{After: 25}, nil},
			{"between", parley.MessagePage{After: 5, Before: 10}, span(6, 9)},
			{"since", parley.MessagePage{Since: at(20)}, span(20, 25)},
			{"until", parley.MessagePage{Until: at(5)}, span(1, 4)},
			{"since and until, newest of them", parley.MessagePage{Since: at(10), Until: at(15), Limit: 3}, span(12, 14)},
			{"since with after", parley.MessagePage{Since: at(10), After: 3, Limit: 3}, span(10, 12)},
			{"limit 1", parley.MessagePage{Limit: 1}, span(25, 25)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				msgs, err := s.Messages(ctx, c.ID, tt.p)
				must(t, err)
				var seqs []int64
				for _, m := range msgs {
					if m.ConversationID != c.ID {
						t.Fatalf("message %d of conversation %d", m.ID, m.ConversationID)
					}
					seqs = append(seqs, m.Seq)
				}
				if !slices.Equal(seqs, tt.want) {
					t.Errorf("Messages(%+v) = %v, want %v", tt.p, seqs, tt.want)
				}
			})
		}
		if msgs, err := s.Messages(ctx, other.ID+1000, parley.MessagePage{}); err != nil || len(msgs) != 0 {
			t.Errorf("Messages of a missing conversation = %v, %v", msgs, err)
		}

		// Paging backwards and forwards visits every message once.
		var back []int64
		p := parley.MessagePage{Limit: 4}
		for {
			msgs, err := s.Messages(ctx, c.ID, p)
			must(t, err)
			if len(msgs) == 0 {
				break
			}
			var page []int64
			for _, m := range msgs {
				page = append(page, m.Seq)
			}
			back = append(page, back...)
			p.Before = msgs[0].Seq
		}
		var fwd []int64
		for after := int64(0); ; {
			p := parley.MessagePage{After: after, Limit: 4}
			if after == 0 {
				p = parley.MessagePage{Before: 5} // the oldest four
			}
			msgs, err := s.Messages(ctx, c.ID, p)
			must(t, err)
			if len(msgs) == 0 {
				break
			}
			for _, m := range msgs {
				fwd = append(fwd, m.Seq)
			}
			after = msgs[len(msgs)-1].Seq
		}
		if !slices.Equal(back, span(1, 25)) || !slices.Equal(fwd, span(1, 25)) {
			t.Errorf("paging backwards = %v, forwards = %v", back, fwd)
		}
	})
}

func TestLastMessagesAndUpdate(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		c1 := newConv(t, s, parley.KindGroup, "", us...)
		c2 := newConv(t, s, parley.KindGroup, "", us...)
		empty := newConv(t, s, parley.KindGroup, "", us...)
		send(t, s, c1, us[0], "a")
		send(t, s, c2, us[0], "b")
		send(t, s, c1, us[1], "c")
		last1 := send(t, s, c1, nil, "")
		last2 := send(t, s, c2, us[1], "d")

		got, err := s.LastMessages(ctx, []int64{c1.ID, c2.ID, empty.ID, empty.ID + 1000})
		must(t, err)
		if len(got) != 2 || got[c1.ID] == nil || got[c1.ID].ID != last1.ID || got[c2.ID] == nil || got[c2.ID].ID != last2.ID {
			t.Errorf("LastMessages = %+v, want %d and %d", got, last1.ID, last2.ID)
		}
		if got, err := s.LastMessages(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("LastMessages(nil) = %v, %v", got, err)
		}

		// Edit, then delete.
		m := send(t, s, c2, us[0], "original")
		edited := *m
		edited.Text, edited.EditedAt = "edited", baseTime
		mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateMessage(ctx, &edited) })
		got1, err := s.MessageByID(ctx, m.ID)
		must(t, err)
		if got1.Text != "edited" || !got1.EditedAt.Equal(baseTime) || got1.Deleted() || got1.Seq != m.Seq || !got1.CreatedAt.Equal(m.CreatedAt) {
			t.Errorf("after edit: %+v", got1)
		}
		deleted := edited
		deleted.Text, deleted.Files, deleted.DeletedAt = "", nil, baseTime.Add(time.Minute)
		mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateMessage(ctx, &deleted) })
		got1, err = s.MessageByID(ctx, m.ID)
		must(t, err)
		if got1.Text != "" || !got1.Deleted() || !got1.DeletedAt.Equal(deleted.DeletedAt) || got1.Files != nil {
			t.Errorf("after delete: %+v", got1)
		}
		// A deleted message keeps its place in history.
		if last, err := s.LastMessages(ctx, []int64{c2.ID}); err != nil || last[c2.ID] == nil || last[c2.ID].ID != m.ID || !last[c2.ID].Deleted() {
			t.Errorf("LastMessages after delete = %+v, %v", last, err)
		}
		missing := parley.Message{ID: m.ID + 1000, Text: "x"}
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.UpdateMessage(ctx, &missing) }), parley.ENOTFOUND)
	})
}

// TestSearch runs the search cases with the default window (every
// conversation here fits in it), a window of two messages and an empty
// one, so both steps of a search (search.go) give the same results.
func TestSearch(t *testing.T) {
	for _, w := range []int64{2000, 2, 0} {
		t.Run(fmt.Sprintf("window %d", w), func(t *testing.T) {
			defer sqlstore.SetSearchWindow(w)()
			testSearch(t)
		})
	}
}

func testSearch(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 3)
		a, b, c := us[0], us[1], us[2]
		ab := newConv(t, s, parley.KindDirect, "ab", a, b)
		ac := newConv(t, s, parley.KindDirect, "ac", a, c)
		bc := newConv(t, s, parley.KindDirect, "bc", b, c)

		m1 := send(t, s, ab, a, "Hello wonderful world")
		m2 := send(t, s, ab, b, "wonder of the world")
		m3 := send(t, s, ab, a, "hello again, Élodie!")
		m4 := send(t, s, ac, c, "a WONDERFUL day")
		gone := send(t, s, ac, a, "deleted wonder")
		m6 := send(t, s, ac, a, "l'amour, 100% \"quoted\" (wonder)")
		m7 := send(t, s, bc, b, "wonderful secret")
		mustWrite(t, s, func(tx parley.Tx) error {
			// A system line never matches.
			return tx.InsertMessage(ctx, &parley.Message{ConversationID: ab.ID, Kind: parley.MsgEvent, Text: "wonderful system"})
		})
		// A deleted message does not match even if its text were kept.
		del := *gone
		del.DeletedAt = baseTime
		mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateMessage(ctx, &del) })

		wonder := []*parley.Message{m6, m4, m2, m1}
		tests := []struct {
			name string
			q    parley.SearchQuery
			want []*parley.Message
		}{
			{"prefix", parley.SearchQuery{UserID: a.ID, Text: "wonder"}, wonder},
			{"short prefix", parley.SearchQuery{UserID: a.ID, Text: "won"}, wonder},
			{"whole word", parley.SearchQuery{UserID: a.ID, Text: "wonderful"}, []*parley.Message{m4, m1}},
			{"case-insensitive", parley.SearchQuery{UserID: a.ID, Text: "WoNdErFuL"}, []*parley.Message{m4, m1}},
			{"all words required", parley.SearchQuery{UserID: a.ID, Text: "wonder world"}, []*parley.Message{m2, m1}},
			{"any order", parley.SearchQuery{UserID: a.ID, Text: "world wonderful"}, []*parley.Message{m1}},
			{"word not present", parley.SearchQuery{UserID: a.ID, Text: "wonder zebra"}, nil},
			{"no infix match", parley.SearchQuery{UserID: a.ID, Text: "onder"}, nil},
			{"non-ASCII", parley.SearchQuery{UserID: a.ID, Text: "élodie"}, []*parley.Message{m3}},
			{"non-ASCII upper-case", parley.SearchQuery{UserID: a.ID, Text: "ÉLO"}, []*parley.Message{m3}},
			{"punctuation in text", parley.SearchQuery{UserID: a.ID, Text: "amour quoted"}, []*parley.Message{m6}},
			{"digits", parley.SearchQuery{UserID: a.ID, Text: "100"}, []*parley.Message{m6}},
			{"only member conversations", parley.SearchQuery{UserID: b.ID, Text: "wonderful"}, []*parley.Message{m7, m1}},
			{"conversation filter", parley.SearchQuery{UserID: a.ID, Text: "wonder", ConversationID: ac.ID}, []*parley.Message{m6, m4}},
			{"conversation of others", parley.SearchQuery{UserID: a.ID, Text: "wonder", ConversationID: bc.ID}, nil},
			{"before cursor", parley.SearchQuery{UserID: a.ID, Text: "wonder", Before: m4.ID}, []*parley.Message{m2, m1}},
			{"limit", parley.SearchQuery{UserID: a.ID, Text: "wonder", Limit: 2}, []*parley.Message{m6, m4}},
			{"limit and cursor", parley.SearchQuery{UserID: a.ID, Text: "wonder", Limit: 2, Before: m4.ID}, []*parley.Message{m2, m1}},
			{"empty", parley.SearchQuery{UserID: a.ID, Text: ""}, nil},
			{"only spaces", parley.SearchQuery{UserID: a.ID, Text: "   "}, nil},
			{"not a member anywhere", parley.SearchQuery{UserID: c.ID + 1000, Text: "wonder"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Search(ctx, tt.q)
				must(t, err)
				if !slices.Equal(msgIDs(got), msgIDs(tt.want)) {
					t.Errorf("Search(%+v) = %v, want %v", tt.q, msgIDs(got), msgIDs(tt.want))
				}
			})
		}

		t.Run("edit re-indexes", func(t *testing.T) {
			ed := *m1
			ed.Text, ed.EditedAt = "Goodbye moon", baseTime
			mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateMessage(ctx, &ed) })
			for q, want := range map[string][]int64{
				"world":     {m2.ID},
				"wonderful": {m4.ID},
				"hello":     {m3.ID},
				"goodbye":   {m1.ID},
				"moo":       {m1.ID},
				"moon good": {m1.ID},
			} {
				got, err := s.Search(ctx, parley.SearchQuery{UserID: a.ID, Text: q})
				must(t, err)
				if !slices.Equal(msgIDs(got), want) {
					t.Errorf("after edit, Search(%q) = %v, want %v", q, msgIDs(got), want)
				}
			}
			// Deleting by clearing the text removes it from the index too.
			ed.Text, ed.DeletedAt = "", baseTime
			mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateMessage(ctx, &ed) })
			if got, err := s.Search(ctx, parley.SearchQuery{UserID: a.ID, Text: "goodbye"}); err != nil || len(got) != 0 {
				t.Errorf("after delete, Search(goodbye) = %v, %v", msgIDs(got), err)
			}
		})

		t.Run("query syntax is inert", func(t *testing.T) {
			// Search must never fail with an SQL or full-text syntax
			// error, whatever the user types. Inputs that contain the
			// word "wonder" find what a plain "wonder" finds.
			plain, err := s.Search(ctx, parley.SearchQuery{UserID: a.ID, Text: "wonder"})
			must(t, err)
			inputs := []string{
				`"`, `'`, `''`, `*`, `**`, `^`, `-`, `+`, `:`, `(`, `)`, `()`, `{`, `}`, `[`, `]`, `\`, `%`, `_`, `&`, `|`, `!`, `<->`, `:*`, `;`,
				`AND`, `OR`, `NOT`, `AND OR NOT`, `NEAR`, `NEAR(a b)`, `foo:`, `foo:*`, `text:foo`, `text:wonder`, `a & b | !c`, `"unterminated`, `'unterminated`,
				`a'b`, `a"b`, `a''b`, `a""b`, `\'`, `\"`, `a\b`, `'; DROP TABLE messages; --`, `" OR 1=1 --`, `$1`, `?`, "\x00", "nul\x00byte",
				"\xff\xfe", "tab\there", "new\nline", `😀`, `👍🏽`, `🏳️‍🌈`, `日本語`, `Ελληνικά`, `עברית`, `𞤀𞤢`, `ǅungla`, `ﬁ`, `İstanbul`, `ß`,
				strings.Repeat("w ", 100), strings.Repeat("x", 3000), strings.Repeat(`"`, 50), strings.Repeat("(", 50),
			}
			withWonder := []string{
				`"wonder`, `wonder"`, `"wonder"`, `'wonder'`, `wonder*`, `*wonder`, `-wonder`, `+wonder`, `^wonder`, `(wonder)`, `wonder:`,
				`wonder:*`, `wonder😀`, `😀wonder`, `wonder; --`, `wonder\`, `wonder%`, `wonder_`, `  WONDER  `, "wonder\x00",
			}
			for _, in := range inputs {
				if _, err := s.Search(ctx, parley.SearchQuery{UserID: a.ID, Text: in}); err != nil {
					t.Errorf("Search(%q): %v", in, err)
				}
			}
			for _, in := range withWonder {
				got, err := s.Search(ctx, parley.SearchQuery{UserID: a.ID, Text: in})
				if err != nil {
					t.Errorf("Search(%q): %v", in, err)
				} else if !slices.Equal(msgIDs(got), msgIDs(plain)) {
					t.Errorf("Search(%q) = %v, want %v", in, msgIDs(got), msgIDs(plain))
				}
			}
		})
	})
}

func TestFiles(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		c := newConv(t, s, parley.KindDirect, "d", us...)
		f1 := &parley.File{OwnerID: us[0].ID, Name: "report.pdf", ContentType: "application/pdf", Size: 12345}
		f2 := &parley.File{OwnerID: us[1].ID, Name: "photo.jpg", ContentType: "image/jpeg", Size: 99, Width: 640, Height: 480, HasThumb: true, CreatedAt: baseTime}
		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.CreateFile(ctx, f1); err != nil {
				return err
			}
			return tx.CreateFile(ctx, f2)
		})
		if f1.ID == 0 || f1.CreatedAt.IsZero() || f2.ID == 0 || !f2.CreatedAt.Equal(baseTime) {
			t.Fatalf("CreateFile did not fill ID and time: %+v %+v", f1, f2)
		}
		got, err := s.FileByID(ctx, f2.ID)
		must(t, err)
		if *got != *f2 || got.ConversationID != 0 {
			t.Errorf("FileByID = %+v, want %+v", got, f2)
		}
		_, err = s.FileByID(ctx, f2.ID+1000)
		wantCode(t, err, parley.ENOTFOUND)

		m := send(t, s, c, us[0], "")
		mustWrite(t, s, func(tx parley.Tx) error { return tx.AttachFile(ctx, f1.ID, c.ID, m.ID) })
		got, err = s.FileByID(ctx, f1.ID)
		must(t, err)
		if got.ConversationID != c.ID {
			t.Errorf("after AttachFile: %+v", got)
		}
		m2 := send(t, s, c, us[0], "")
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.AttachFile(ctx, f1.ID, c.ID, m2.ID) }), parley.ECONFLICT)
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.AttachFile(ctx, f2.ID+1000, c.ID, m2.ID) }), parley.ENOTFOUND)

		files, err := s.Files(ctx, []int64{f2.ID, f2.ID + 1000, f1.ID})
		must(t, err)
		if len(files) != 2 || files[0].ID != f1.ID || files[1].ID != f2.ID || files[0].ConversationID != c.ID || files[1] != *f2 {
			t.Errorf("Files = %+v", files)
		}
		if files, err := s.Files(ctx, nil); err != nil || len(files) != 0 {
			t.Errorf("Files(nil) = %v, %v", files, err)
		}
	})
}

func TestReminders(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		a, b := us[0], us[1]
		c := newConv(t, s, parley.KindGroup, "", a, b)
		var ms []*parley.Message
		for i := 0; i < 4; i++ {
			ms = append(ms, send(t, s, c, a, "remember me"))
		}
		at := func(min int) time.Time { return baseTime.Add(time.Duration(min) * time.Minute) }
		put := func(r *parley.Reminder) {
			t.Helper()
			mustWrite(t, s, func(tx parley.Tx) error { return tx.PutReminder(ctx, r) })
		}

		if next, err := s.NextReminderAt(ctx, time.Time{}); err != nil || !next.IsZero() {
			t.Errorf("NextReminderAt with no reminders = %v, %v", next, err)
		}
		ra := &parley.Reminder{UserID: a.ID, MessageID: ms[0].ID, ConversationID: c.ID, RemindAt: at(30)}
		rb := &parley.Reminder{UserID: b.ID, MessageID: ms[0].ID, ConversationID: c.ID, RemindAt: at(10)}
		ra2 := &parley.Reminder{UserID: a.ID, MessageID: ms[1].ID, ConversationID: c.ID, RemindAt: at(20)}
		for _, r := range []*parley.Reminder{ra, rb, ra2} {
			put(r)
			if r.ID == 0 || r.CreatedAt.IsZero() || !r.FiredAt.IsZero() {
				t.Fatalf("PutReminder did not fill ID and time: %+v", r)
			}
		}
		got, err := s.Reminder(ctx, a.ID, ms[0].ID)
		must(t, err)
		if *got != *ra {
			t.Errorf("Reminder = %+v, want %+v", got, ra)
		}
		_, err = s.Reminder(ctx, a.ID, ms[3].ID)
		wantCode(t, err, parley.ENOTFOUND)
		list, err := s.Reminders(ctx, a.ID)
		must(t, err)
		if len(list) != 2 || list[0].ID != ra2.ID || list[1].ID != ra.ID {
			t.Errorf("Reminders(a) = %+v, want soonest first", list)
		}

		ids := func(rs []*parley.Reminder) []int64 {
			var out []int64
			for _, r := range rs {
				out = append(out, r.ID)
			}
			return out
		}
		due := []struct {
			name  string
			now   time.Time
			user  int64
			limit int
			want  []int64
		}{
			{"none due yet", at(5), 0, 0, nil},
			{"exactly at the time", at(10), 0, 0, []int64{rb.ID}},
			{"all due, oldest first", at(60), 0, 0, []int64{rb.ID, ra2.ID, ra.ID}},
			{"limit", at(60), 0, 2, []int64{rb.ID, ra2.ID}},
			{"one user", at(60), a.ID, 0, []int64{ra2.ID, ra.ID}},
			{"one user, limit", at(60), a.ID, 1, []int64{ra2.ID}},
			{"one user, none due", at(15), a.ID, 0, nil},
		}
		for _, tt := range due {
			got, err := s.DueReminders(ctx, tt.now, tt.user, tt.limit)
			if err != nil || !slices.Equal(ids(got), tt.want) {
				t.Errorf("DueReminders %s = %v, %v, want %v", tt.name, ids(got), err, tt.want)
			}
		}
		for _, tt := range []struct {
			after, want time.Time
		}{{time.Time{}, at(10)}, {at(10), at(20)}, {at(25), at(30)}, {at(30), time.Time{}}} {
			if next, err := s.NextReminderAt(ctx, tt.after); err != nil || !next.Equal(tt.want) {
				t.Errorf("NextReminderAt(%v) = %v, %v, want %v", tt.after, next, err, tt.want)
			}
		}

		// Firing takes a reminder out of the due list, once.
		mustWrite(t, s, func(tx parley.Tx) error { return tx.MarkReminderFired(ctx, rb.ID, at(11)) })
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.MarkReminderFired(ctx, rb.ID, at(12)) }), parley.ENOTFOUND)
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.MarkReminderFired(ctx, rb.ID+1000, at(12)) }), parley.ENOTFOUND)
		got, err = s.Reminder(ctx, b.ID, ms[0].ID)
		must(t, err)
		if !got.FiredAt.Equal(at(11)) {
			t.Errorf("FiredAt = %v, want %v", got.FiredAt, at(11))
		}
		if got, err := s.DueReminders(ctx, at(60), 0, 0); err != nil || !slices.Equal(ids(got), []int64{ra2.ID, ra.ID}) {
			t.Errorf("DueReminders after firing = %v, %v", ids(got), err)
		}
		if next, err := s.NextReminderAt(ctx, time.Time{}); err != nil || !next.Equal(at(20)) {
			t.Errorf("NextReminderAt after firing = %v, %v", next, err)
		}

		// Putting it again (a snooze) keeps its identity and makes it
		// pending again.
		snooze := &parley.Reminder{UserID: b.ID, MessageID: ms[0].ID, ConversationID: c.ID, RemindAt: at(40)}
		put(snooze)
		if snooze.ID != rb.ID || !snooze.CreatedAt.Equal(rb.CreatedAt) || !snooze.FiredAt.IsZero() {
			t.Errorf("PutReminder upsert = %+v, want the same reminder as %+v", snooze, rb)
		}
		got, err = s.Reminder(ctx, b.ID, ms[0].ID)
		must(t, err)
		if !got.RemindAt.Equal(at(40)) || !got.FiredAt.IsZero() {
			t.Errorf("after snooze: %+v", got)
		}
		if got, err := s.DueReminders(ctx, at(60), b.ID, 0); err != nil || !slices.Equal(ids(got), []int64{rb.ID}) {
			t.Errorf("a snoozed reminder is not due again: %v, %v", ids(got), err)
		}
		if list, err := s.Reminders(ctx, b.ID); err != nil || len(list) != 1 {
			t.Errorf("upsert created a second reminder: %v, %v", list, err)
		}

		mustWrite(t, s, func(tx parley.Tx) error { return tx.DeleteReminder(ctx, a.ID, ms[1].ID) })
		_, err = s.Reminder(ctx, a.ID, ms[1].ID)
		wantCode(t, err, parley.ENOTFOUND)
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.DeleteReminder(ctx, a.ID, ms[1].ID) }), parley.ENOTFOUND)
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.DeleteReminder(ctx, b.ID, ms[3].ID) }), parley.ENOTFOUND)
		if list, err := s.Reminders(ctx, a.ID); err != nil || len(list) != 1 || list[0].ID != ra.ID {
			t.Errorf("Reminders(a) after delete = %v, %v", list, err)
		}
	})
}
