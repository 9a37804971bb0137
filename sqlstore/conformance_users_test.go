package sqlstore_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

func TestUserCRUD(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		must(t, s.Ping(ctx))
		if n, err := s.CountUsers(ctx); err != nil || n != 0 {
			t.Fatalf("CountUsers on an empty store = %d, %v", n, err)
		}
		u := &parley.User{Email: "ann@x.test", Name: "Ann", Role: parley.RoleAdmin, Active: true, PhotoFileID: 7}
		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.CreateUser(ctx, u, "argon2id$1"); err != nil {
				return err
			}
			// A transaction reads its own writes.
			got, err := tx.UserByID(ctx, u.ID)
			if err != nil || got.Email != u.Email {
				t.Errorf("UserByID inside the transaction = %+v, %v", got, err)
			}
			return nil
		})
		if u.ID == 0 || u.CreatedAt.IsZero() || !u.UpdatedAt.Equal(u.CreatedAt) {
			t.Fatalf("CreateUser did not fill ID and times: %+v", u)
		}

		got, err := s.UserByID(ctx, u.ID)
		must(t, err)
		if got.Email != "ann@x.test" || got.Name != "Ann" || got.Role != parley.RoleAdmin || !got.Active ||
			got.PhotoFileID != 7 || !got.CreatedAt.Equal(u.CreatedAt) || !got.UpdatedAt.Equal(u.UpdatedAt) {
			t.Errorf("UserByID = %+v, want %+v", got, u)
		}
		for _, email := range []string{"ann@x.test", "ANN@X.TEST", "Ann@x.Test"} {
			got, hash, err := s.UserByEmail(ctx, email)
			if err != nil || got.ID != u.ID || hash != "argon2id$1" {
				t.Errorf("UserByEmail(%q) = %+v, %q, %v", email, got, hash, err)
			}
		}
		_, err = s.UserByID(ctx, u.ID+1000)
		wantCode(t, err, parley.ENOTFOUND)
		_, _, err = s.UserByEmail(ctx, "nobody@x.test")
		wantCode(t, err, parley.ENOTFOUND)

		t.Run("duplicate e-mail", func(t *testing.T) {
			for _, email := range []string{"ann@x.test", strings.ToLower("ANN@x.test")} {
				err := writeErr(t, s, func(tx parley.Tx) error {
					if err := tx.CreateUser(ctx, &parley.User{Email: "other@x.test", Name: "Other", Role: parley.RoleMember}, ""); err != nil {
						return err
					}
					return tx.CreateUser(ctx, &parley.User{Email: email, Name: "Dup", Role: parley.RoleMember}, "")
				})
				wantCode(t, err, parley.ECONFLICT)
			}
			// The failed writes left nothing behind, not even the first user.
			if n, err := s.CountUsers(ctx); err != nil || n != 1 {
				t.Fatalf("CountUsers = %d, %v, want 1", n, err)
			}
		})

		t.Run("update", func(t *testing.T) {
			b := newUser(t, s, "Bob", "bob@x.test")
			time.Sleep(2 * time.Millisecond)
			upd := *b
			upd.Name, upd.Email, upd.Role, upd.Active, upd.PhotoFileID = "Robert", "robert@x.test", parley.RoleAgent, false, 9
			mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateUser(ctx, &upd) })
			got, err := s.UserByID(ctx, b.ID)
			must(t, err)
			if got.Name != "Robert" || got.Email != "robert@x.test" || got.Role != parley.RoleAgent || got.Active ||
				got.PhotoFileID != 9 || !got.CreatedAt.Equal(b.CreatedAt) || !got.UpdatedAt.After(b.UpdatedAt) {
				t.Errorf("after UpdateUser = %+v", got)
			}
			if _, _, err := s.UserByEmail(ctx, "bob@x.test"); parley.ErrorCode(err) != parley.ENOTFOUND {
				t.Errorf("old e-mail still found: %v", err)
			}
			// The directory follows the new name and e-mail.
			for q, want := range map[string]int{"robert": 1, "bob": 0} {
				us, _, err := s.Users(ctx, parley.UserFilter{Query: q})
				if err != nil || len(us) != want {
					t.Errorf("Users(%q) = %d users, %v, want %d", q, len(us), err, want)
				}
			}
			taken := upd
			taken.Email = "ann@x.test"
			wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.UpdateUser(ctx, &taken) }), parley.ECONFLICT)
			missing := parley.User{ID: b.ID + 1000, Email: "m@x.test", Name: "M", Role: parley.RoleMember}
			wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.UpdateUser(ctx, &missing) }), parley.ENOTFOUND)
		})

		t.Run("password and client", func(t *testing.T) {
			mustWrite(t, s, func(tx parley.Tx) error {
				if err := tx.SetPassword(ctx, u.ID, "argon2id$2"); err != nil {
					return err
				}
				return tx.SetClient(ctx, u.ID, "web", "1.2.3")
			})
			got, hash, err := s.UserByEmail(ctx, "ann@x.test")
			must(t, err)
			if hash != "argon2id$2" || got.LastClient != "web" || got.LastClientVersion != "1.2.3" {
				t.Errorf("after SetPassword/SetClient: %+v, hash %q", got, hash)
			}
			wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.SetPassword(ctx, u.ID+1000, "x") }), parley.ENOTFOUND)
			wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.SetClient(ctx, u.ID+1000, "web", "1") }), parley.ENOTFOUND)
		})

		t.Run("settings", func(t *testing.T) {
			got, err := s.UserSettings(ctx, u.ID)
			must(t, err)
			if got != parley.DefaultSettings() {
				t.Errorf("settings of a new user = %+v, want defaults %+v", got, parley.DefaultSettings())
			}
			for _, want := range []parley.Settings{
				{}, // every field false must survive, not fall back to the defaults
				{SendOnEnter: true, Sound: false, DesktopNotifications: true},
				parley.DefaultSettings(),
			} {
				mustWrite(t, s, func(tx parley.Tx) error { return tx.SetUserSettings(ctx, u.ID, want) })
				got, err := s.UserSettings(ctx, u.ID)
				if err != nil || got != want {
					t.Errorf("UserSettings = %+v, %v, want %+v", got, err, want)
				}
			}
			_, err = s.UserSettings(ctx, u.ID+1000)
			wantCode(t, err, parley.ENOTFOUND)
			wantCode(t, writeErr(t, s, func(tx parley.Tx) error {
				return tx.SetUserSettings(ctx, u.ID+1000, parley.Settings{})
			}), parley.ENOTFOUND)
		})
	})
}

func TestUserDirectory(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		type person struct{ name, email string }
		people := []person{
			{"Élodie Martin", "elodie@x.test"},
			{"Ann Smith", "ann@x.test"},
			{"Bob 100% Real", "bob@x.test"},
			{"Room 1000", "room@x.test"},
			{"Carl_Jung", "cj1@x.test"},
			{"Carl Jung", "cj2@x.test"},
			{"Zoë Back\\slash", "zoe@x.test"},
			{"Dormant", "dormant@x.test"},
		}
		byName := map[string]*parley.User{}
		for _, p := range people {
			byName[p.name] = newUser(t, s, p.name, p.email)
		}
		dormant := *byName["Dormant"]
		dormant.Active = false
		g := &parley.Group{Name: "Sales", MemberIDs: []int64{byName["Élodie Martin"].ID, byName["Ann Smith"].ID}}
		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.UpdateUser(ctx, &dormant); err != nil {
				return err
			}
			return tx.CreateGroup(ctx, g)
		})
		yes, no := true, false

		tests := []struct {
			name string
			f    parley.UserFilter
			want []string // names, in directory order
		}{
			{"all", parley.UserFilter{}, []string{"Ann Smith", "Bob 100% Real", "Carl Jung", "Carl_Jung", "Dormant", "Room 1000", "Zoë Back\\slash", "Élodie Martin"}},
			{"name substring", parley.UserFilter{Query: "mart"}, []string{"Élodie Martin"}},
			{"upper-case ASCII", parley.UserFilter{Query: "SMITH"}, []string{"Ann Smith"}},
			{"non-ASCII lower", parley.UserFilter{Query: "élo"}, []string{"Élodie Martin"}},
			{"non-ASCII upper", parley.UserFilter{Query: "ÉLODIE"}, []string{"Élodie Martin"}},
			{"non-ASCII inside", parley.UserFilter{Query: "ZOË"}, []string{"Zoë Back\\slash"}},
			{"e-mail substring", parley.UserFilter{Query: "cj1@"}, []string{"Carl_Jung"}},
			{"e-mail domain", parley.UserFilter{Query: "@X.TEST"}, []string{"Ann Smith", "Bob 100% Real", "Carl Jung", "Carl_Jung", "Dormant", "Room 1000", "Zoë Back\\slash", "Élodie Martin"}},
			{"surrounding spaces", parley.UserFilter{Query: "  ann  "}, []string{"Ann Smith"}},
			{"percent is literal", parley.UserFilter{Query: "100%"}, []string{"Bob 100% Real"}},
			{"lone percent", parley.UserFilter{Query: "%"}, []string{"Bob 100% Real"}},
			{"underscore is literal", parley.UserFilter{Query: "l_j"}, []string{"Carl_Jung"}},
			{"lone underscore", parley.UserFilter{Query: "_"}, []string{"Carl_Jung"}},
			{"backslash is literal", parley.UserFilter{Query: `k\s`}, []string{"Zoë Back\\slash"}},
			{"quote", parley.UserFilter{Query: `o'brien`}, nil},
			{"no match", parley.UserFilter{Query: "nobody"}, nil},
			{"group", parley.UserFilter{GroupID: g.ID}, []string{"Ann Smith", "Élodie Martin"}},
			{"group and query", parley.UserFilter{GroupID: g.ID, Query: "élo"}, []string{"Élodie Martin"}},
			{"unknown group", parley.UserFilter{GroupID: g.ID + 1000}, nil},
			{"ids", parley.UserFilter{IDs: []int64{byName["Room 1000"].ID, byName["Bob 100% Real"].ID, 99999}}, []string{"Bob 100% Real", "Room 1000"}},
			{"empty ids", parley.UserFilter{IDs: []int64{}}, nil},
			{"ids and query", parley.UserFilter{IDs: []int64{byName["Room 1000"].ID, byName["Bob 100% Real"].ID}, Query: "room"}, []string{"Room 1000"}},
			{"inactive", parley.UserFilter{Active: &no}, []string{"Dormant"}},
			{"active", parley.UserFilter{Active: &yes, Query: "carl"}, []string{"Carl Jung", "Carl_Jung"}},
			{"active in group", parley.UserFilter{Active: &yes, GroupID: g.ID}, []string{"Ann Smith", "Élodie Martin"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				us, next, err := s.Users(ctx, tt.f)
				must(t, err)
				var names []string
				for _, u := range us {
					names = append(names, u.Name)
				}
				if !slices.Equal(names, tt.want) || next != "" {
					t.Errorf("Users(%+v) = %q, next %q, want %q", tt.f, names, next, tt.want)
				}
			})
		}
		_, _, err := s.Users(ctx, parley.UserFilter{Cursor: "not a cursor!"})
		wantCode(t, err, parley.EINVALID)
	})
}

func TestUserDirectoryPaging(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		// 120 users created in random order; names repeat in pairs (the
		// ID breaks ties) and vary in case (ordering ignores case).
		const n = 120
		order := rand.Perm(n)
		users := make([]*parley.User, n)
		mustWrite(t, s, func(tx parley.Tx) error {
			for _, i := range order {
				name := fmt.Sprintf("Person %03d", i/2)
				if i%3 == 0 {
					name = strings.ToLower(name)
				}
				users[i] = &parley.User{Email: fmt.Sprintf("p%d@x.test", i), Name: name, Role: parley.RoleMember, Active: true}
				if err := tx.CreateUser(ctx, users[i], ""); err != nil {
					return err
				}
			}
			return nil
		})
		want := slices.Clone(users)
		slices.SortFunc(want, func(a, b *parley.User) int {
			if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
				return c
			}
			return int(a.ID - b.ID)
		})

		for _, limit := range []int{1, 7, 50, 119, 120, 500} {
			t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
				var got []*parley.User
				cursor := ""
				for pages := 0; ; pages++ {
					if pages > n+1 {
						t.Fatal("paging does not end")
					}
					page, next, err := s.Users(ctx, parley.UserFilter{Cursor: cursor, Limit: limit})
					must(t, err)
					if len(page) > limit {
						t.Fatalf("page of %d users, limit %d", len(page), limit)
					}
					if next != "" && len(page) != limit {
						t.Fatalf("short page of %d with a next cursor", len(page))
					}
					got = append(got, page...)
					if next == "" {
						break
					}
					cursor = next
				}
				if !slices.Equal(userIDs(got), userIDs(want)) {
					t.Errorf("paging with limit %d yielded %d users, not each once in name order", limit, len(got))
				}
			})
		}

		// The default page is 50 and says there is more.
		page, next, err := s.Users(ctx, parley.UserFilter{})
		must(t, err)
		if len(page) != 50 || next == "" {
			t.Errorf("default page: %d users, next %q", len(page), next)
		}
		// Filters hold across pages.
		yes := true
		var got []*parley.User
		cursor := ""
		for {
			page, next, err := s.Users(ctx, parley.UserFilter{Query: "person 01", Active: &yes, Cursor: cursor, Limit: 3})
			must(t, err)
			got = append(got, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(got) != 20 {
			t.Errorf("filtered paging yielded %d users, want 20", len(got))
		}
		if n, err := s.CountUsers(ctx); err != nil || n != 120 {
			t.Errorf("CountUsers = %d, %v", n, err)
		}
	})
}

func TestSessions(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		a := newUser(t, s, "Ann", "ann@x.test")
		b := newUser(t, s, "Bob", "bob@x.test")
		exp := baseTime.Add(24 * time.Hour)
		s1 := &parley.Session{UserID: a.ID, Kind: parley.SessionBrowser, TokenHash: "h1", CSRF: "csrf1", ExpiresAt: exp}
		s2 := &parley.Session{UserID: a.ID, Kind: parley.SessionToken, Name: "bot", TokenHash: "h2", CreatedAt: baseTime}
		s3 := &parley.Session{UserID: b.ID, Kind: parley.SessionBrowser, TokenHash: "h3"}
		mustWrite(t, s, func(tx parley.Tx) error {
			for _, x := range []*parley.Session{s1, s2, s3} {
				if err := tx.CreateSession(ctx, x); err != nil {
					return err
				}
			}
			return nil
		})
		if s1.ID == 0 || s1.CreatedAt.IsZero() || !s1.LastUsed.Equal(s1.CreatedAt) || !s2.CreatedAt.Equal(baseTime) {
			t.Fatalf("CreateSession did not fill ID and times: %+v %+v", s1, s2)
		}
		got, err := s.SessionByTokenHash(ctx, "h1")
		must(t, err)
		if got.ID != s1.ID || got.UserID != a.ID || got.Kind != parley.SessionBrowser || got.CSRF != "csrf1" ||
			!got.ExpiresAt.Equal(exp) || !got.CreatedAt.Equal(s1.CreatedAt) || got.TokenHash != "h1" {
			t.Errorf("SessionByTokenHash = %+v, want %+v", got, s1)
		}
		got, err = s.SessionByTokenHash(ctx, "h2")
		must(t, err)
		if got.Name != "bot" || got.Kind != parley.SessionToken || !got.ExpiresAt.IsZero() {
			t.Errorf("token session = %+v", got)
		}
		_, err = s.SessionByTokenHash(ctx, "nope")
		wantCode(t, err, parley.ENOTFOUND)

		list, err := s.Sessions(ctx, a.ID)
		must(t, err)
		if len(list) != 2 || list[0].ID != s1.ID || list[1].ID != s2.ID {
			t.Errorf("Sessions(a) = %+v", list)
		}

		used := baseTime.Add(time.Hour)
		mustWrite(t, s, func(tx parley.Tx) error { return tx.TouchSession(ctx, s1.ID, used) })
		got, err = s.SessionByTokenHash(ctx, "h1")
		must(t, err)
		if !got.LastUsed.Equal(used) {
			t.Errorf("LastUsed after TouchSession = %v, want %v", got.LastUsed, used)
		}

		mustWrite(t, s, func(tx parley.Tx) error { return tx.DeleteSession(ctx, s1.ID) })
		_, err = s.SessionByTokenHash(ctx, "h1")
		wantCode(t, err, parley.ENOTFOUND)
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.DeleteSession(ctx, s1.ID) }), parley.ENOTFOUND)

		mustWrite(t, s, func(tx parley.Tx) error { return tx.DeleteSessions(ctx, a.ID) })
		if list, err := s.Sessions(ctx, a.ID); err != nil || len(list) != 0 {
			t.Errorf("Sessions(a) after DeleteSessions = %v, %v", list, err)
		}
		if list, err := s.Sessions(ctx, b.ID); err != nil || len(list) != 1 {
			t.Errorf("DeleteSessions(a) touched b's sessions: %v, %v", list, err)
		}
	})
}

func TestGroups(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 4)
		sales := &parley.Group{Name: "Sales", Rights: []string{parley.RightDialogsDelete}, MemberIDs: []int64{us[2].ID, us[0].ID}}
		emea := &parley.Group{Name: "EMEA"}
		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.CreateGroup(ctx, sales); err != nil {
				return err
			}
			emea.ParentID = sales.ID
			emea.MemberIDs = []int64{us[0].ID}
			return tx.CreateGroup(ctx, emea)
		})
		if sales.ID == 0 || sales.CreatedAt.IsZero() {
			t.Fatalf("CreateGroup did not fill ID and time: %+v", sales)
		}

		got, err := s.GroupByID(ctx, sales.ID)
		must(t, err)
		if got.Name != "Sales" || got.ParentID != 0 || !slices.Equal(got.Rights, []string{parley.RightDialogsDelete}) ||
			!slices.Equal(got.MemberIDs, sorted([]int64{us[0].ID, us[2].ID})) || !got.CreatedAt.Equal(sales.CreatedAt) {
			t.Errorf("GroupByID = %+v", got)
		}
		_, err = s.GroupByID(ctx, sales.ID+1000)
		wantCode(t, err, parley.ENOTFOUND)

		all, err := s.Groups(ctx)
		must(t, err)
		if len(all) != 2 || all[0].ID != emea.ID || all[1].ID != sales.ID {
			t.Fatalf("Groups = %+v, want EMEA then Sales", all)
		}
		if all[0].ParentID != sales.ID || all[0].Rights == nil || len(all[0].Rights) != 0 || !slices.Equal(all[0].MemberIDs, []int64{us[0].ID}) {
			t.Errorf("EMEA = %+v", all[0])
		}

		of, err := s.GroupsOfUser(ctx, us[0].ID)
		must(t, err)
		if len(of) != 2 || of[0].Name != "EMEA" || of[1].Name != "Sales" {
			t.Errorf("GroupsOfUser(u0) = %+v", of)
		}
		if of, err := s.GroupsOfUser(ctx, us[3].ID); err != nil || len(of) != 0 {
			t.Errorf("GroupsOfUser(u3) = %+v, %v", of, err)
		}

		// UpdateGroup replaces name, rights and members.
		upd := *sales
		upd.Name, upd.Rights, upd.MemberIDs = "Sales team", []string{parley.RightUsersManage, parley.RightChatSettings}, []int64{us[3].ID, us[3].ID, us[1].ID}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateGroup(ctx, &upd) })
		got, err = s.GroupByID(ctx, sales.ID)
		must(t, err)
		if got.Name != "Sales team" || !slices.Equal(got.Rights, upd.Rights) || !slices.Equal(got.MemberIDs, sorted([]int64{us[1].ID, us[3].ID})) {
			t.Errorf("after UpdateGroup = %+v", got)
		}
		if of, err := s.GroupsOfUser(ctx, us[2].ID); err != nil || len(of) != 0 {
			t.Errorf("a removed member still in the group: %+v, %v", of, err)
		}
		missing := parley.Group{ID: sales.ID + 1000, Name: "x"}
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.UpdateGroup(ctx, &missing) }), parley.ENOTFOUND)

		// Deleting a group drops its memberships and lifts its children to
		// the top.
		mustWrite(t, s, func(tx parley.Tx) error { return tx.DeleteGroup(ctx, sales.ID) })
		_, err = s.GroupByID(ctx, sales.ID)
		wantCode(t, err, parley.ENOTFOUND)
		got, err = s.GroupByID(ctx, emea.ID)
		must(t, err)
		if got.ParentID != 0 {
			t.Errorf("child of a deleted group has parent %d", got.ParentID)
		}
		if us, _, err := s.Users(ctx, parley.UserFilter{GroupID: sales.ID}); err != nil || len(us) != 0 {
			t.Errorf("deleted group still has members: %v, %v", us, err)
		}
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.DeleteGroup(ctx, sales.ID) }), parley.ENOTFOUND)
	})
}

func TestFriendsAndContacts(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 6)
		a, b, c, d, e, f := us[0], us[1], us[2], us[3], us[4], us[5]
		mustWrite(t, s, func(tx parley.Tx) error {
			for _, fr := range [][2]*parley.User{{a, d}, {a, b}, {a, d}, {c, a}, {e, f}} {
				if err := tx.AddFriend(ctx, fr[0].ID, fr[1].ID); err != nil {
					return err
				}
			}
			return nil
		})
		ids, err := s.FriendIDs(ctx, a.ID)
		must(t, err)
		if !slices.Equal(sorted(ids), sorted([]int64{b.ID, d.ID})) {
			t.Errorf("FriendIDs(a) = %v, want b and d once each", ids)
		}
		if ids, err := s.FriendIDs(ctx, b.ID); err != nil || len(ids) != 0 {
			t.Errorf("friendship is one-way; FriendIDs(b) = %v, %v", ids, err)
		}

		// a shares a conversation with b (also a friend) and e; c has a as
		// a friend; f is a stranger.
		newConv(t, s, parley.KindDirect, "d:a:b", a, b)
		newConv(t, s, parley.KindGroup, "", a, e, b)
		newConv(t, s, parley.KindGroup, "", c, f)
		contacts, err := s.ContactIDs(ctx, a.ID)
		must(t, err)
		set := map[int64]int{}
		for _, id := range contacts {
			set[id]++
		}
		for _, u := range []*parley.User{b, c, e} {
			if set[u.ID] != 1 {
				t.Errorf("ContactIDs(a) = %v: user %d appears %d times, want once", contacts, u.ID, set[u.ID])
			}
		}
		for _, u := range []*parley.User{a, f} {
			if set[u.ID] != 0 {
				t.Errorf("ContactIDs(a) = %v includes user %d", contacts, u.ID)
			}
		}
		if contacts, err := s.ContactIDs(ctx, f.ID); err != nil || !slices.Equal(sorted(contacts), sorted([]int64{c.ID, e.ID})) {
			t.Errorf("ContactIDs(f) = %v, %v, want c and e", contacts, err)
		}

		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.RemoveFriend(ctx, a.ID, d.ID); err != nil {
				return err
			}
			return tx.RemoveFriend(ctx, a.ID, f.ID) // not a friend: no error
		})
		if ids, err := s.FriendIDs(ctx, a.ID); err != nil || !slices.Equal(ids, []int64{b.ID}) {
			t.Errorf("FriendIDs(a) after RemoveFriend = %v, %v", ids, err)
		}
	})
}

func TestOrganisationSettings(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		type limits struct {
			MaxLength int      `json:"max_length"`
			Words     []string `json:"words"`
		}
		v := limits{MaxLength: 2000, Words: []string{"keep"}}
		must(t, s.Setting(ctx, "limits", &v))
		if v.MaxLength != 2000 || !slices.Equal(v.Words, []string{"keep"}) {
			t.Errorf("a missing key changed the value: %+v", v)
		}

		want := limits{MaxLength: 500, Words: []string{"a", "é"}}
		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.PutSetting(ctx, "limits", want); err != nil {
				return err
			}
			var inTx limits
			if err := tx.Setting(ctx, "limits", &inTx); err != nil || inTx.MaxLength != 500 {
				t.Errorf("Setting inside the transaction = %+v, %v", inTx, err)
			}
			return tx.PutSetting(ctx, "greeting", "hello")
		})
		var got limits
		must(t, s.Setting(ctx, "limits", &got))
		if got.MaxLength != 500 || !slices.Equal(got.Words, want.Words) {
			t.Errorf("Setting = %+v, want %+v", got, want)
		}

		mustWrite(t, s, func(tx parley.Tx) error { return tx.PutSetting(ctx, "limits", limits{MaxLength: 10}) })
		got = limits{}
		must(t, s.Setting(ctx, "limits", &got))
		if got.MaxLength != 10 || got.Words != nil {
			t.Errorf("Setting after overwrite = %+v", got)
		}
		var greeting string
		must(t, s.Setting(ctx, "greeting", &greeting))
		if greeting != "hello" {
			t.Errorf("greeting = %q", greeting)
		}
	})
}

// UsersWithRight answers for everyone what HasRight answers for one user.
func TestUsersWithRight(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 6)
		roles := []parley.Role{parley.RoleAdmin, parley.RoleSupervisor, parley.RoleAgent, parley.RoleAgent, parley.RoleMember, parley.RoleAgent}
		mustWrite(t, s, func(tx parley.Tx) error {
			for i, u := range us {
				u.Role = roles[i]
				if err := tx.UpdateUser(ctx, u); err != nil {
					return err
				}
			}
			if err := tx.CreateGroup(ctx, &parley.Group{Name: "Chat leads", Rights: []string{parley.RightChatSettings},
				MemberIDs: []int64{us[2].ID, us[4].ID}}); err != nil {
				return err
			}
			return tx.CreateGroup(ctx, &parley.Group{Name: "HR", Rights: []string{parley.RightUsersManage}, MemberIDs: []int64{us[3].ID}})
		})
		for _, right := range parley.KnownRights {
			got, err := s.UsersWithRight(ctx, right)
			must(t, err)
			var want []int64
			for _, u := range us {
				ok, err := parley.HasRight(ctx, s, u, right)
				must(t, err)
				if ok {
					want = append(want, u.ID)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: UsersWithRight %v, HasRight says %v", right, got, want)
			}
		}
	})
}

// A user keeps their newest device tokens, the one just added always
// among them.
func TestKnownDevices(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		u := &parley.User{Email: "dev@x.test", Name: "Dev", Role: parley.RoleMember, Active: true}
		other := &parley.User{Email: "other@x.test", Name: "Other", Role: parley.RoleMember, Active: true}
		mustWrite(t, s, func(tx parley.Tx) error {
			must(t, tx.CreateUser(ctx, u, "h"))
			must(t, tx.CreateUser(ctx, other, "h"))
			return tx.AddKnownDevice(ctx, "other-device", other.ID)
		})
		for i := range 30 {
			hash := fmt.Sprintf("device-%02d", i)
			mustWrite(t, s, func(tx parley.Tx) error { return tx.AddKnownDevice(ctx, hash, u.ID) })
			if id, err := s.KnownDevice(ctx, hash); err != nil || id != u.ID {
				t.Fatalf("the device just added: %d, %v", id, err)
			}
		}
		kept := 0
		for i := range 30 {
			if _, err := s.KnownDevice(ctx, fmt.Sprintf("device-%02d", i)); err == nil {
				kept++
			} else if parley.ErrorCode(err) != parley.ENOTFOUND {
				t.Fatal(err)
			}
		}
		if kept != 20 {
			t.Errorf("kept %d device tokens, want 20", kept)
		}
		if id, err := s.KnownDevice(ctx, "other-device"); err != nil || id != other.ID {
			t.Errorf("another user's device: %d, %v", id, err)
		}
	})
}
