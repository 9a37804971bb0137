package sqlstore_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestDialogList checks the inbox list against a model: every filter and
// both orders, paged three at a time over dialogs that share milliseconds,
// by both of the store's plans (along the order's index, and from a rare
// tag's customers).
func TestDialogList(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		rng := rand.New(rand.NewPCG(1, 2))
		us := newUsers(t, s, 3)
		type row struct {
			c      *parley.Conversation
			tags   map[int64]bool // tag → pinned
			revoke bool
		}
		var rows []*row
		var tags []int64
		viewer := us[0].ID
		mustWrite(t, s, func(tx parley.Tx) error {
			rows, tags = nil, nil
			p := &parley.Project{Name: "P", Key: "p", Secret: "s"}
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
			for i := range 4 {
				tg := &parley.Tag{Name: fmt.Sprint("t", i), Color: "#000000"}
				if err := tx.CreateTag(ctx, tg); err != nil {
					return err
				}
				tags = append(tags, tg.ID)
			}
			for i := range 40 {
				k := &parley.Contact{ProjectID: p.ID, Name: fmt.Sprint("c", i)}
				if err := tx.CreateContact(ctx, k); err != nil {
					return err
				}
				// Few distinct times: many dialogs share a millisecond.
				at := baseTime.Add(time.Duration(rng.IntN(6)) * time.Millisecond)
				sup := &parley.Support{ProjectID: p.ID, ContactID: k.ID, Status: parley.SupportOpen, Channel: parley.ChannelWidget,
					ActivityAt: at, LastFrom: parley.FromCustomer, AssigneeID: []int64{0, us[0].ID, us[1].ID}[rng.IntN(3)]}
				switch rng.IntN(3) {
				case 0:
					sup.Status = parley.SupportClosed
				case 1:
					sup.LastFrom = parley.FromManager
				default:
					sup.WaitingSince = baseTime.Add(-time.Duration(rng.IntN(4)) * time.Millisecond)
				}
				c := &parley.Conversation{Kind: parley.KindSupport, State: parley.StateAllowed, Support: sup}
				if err := tx.CreateConversation(ctx, c); err != nil {
					return err
				}
				r := &row{c: c, tags: map[int64]bool{}, revoke: rng.IntN(8) == 0}
				for _, tg := range tags {
					if rng.IntN(3) == 0 {
						r.tags[tg] = rng.IntN(2) == 0
						if err := tx.SetContactTag(ctx, k.ID, tg, r.tags[tg]); err != nil {
							return err
						}
					}
				}
				if r.revoke {
					if err := tx.SetRevoked(ctx, c.ID, viewer, true); err != nil {
						return err
					}
				}
				rows = append(rows, r)
			}
			return nil
		})

		// The model: the filter, then the order.
		model := func(f parley.DialogFilter) []int64 {
			var out []*row
			for _, r := range rows {
				s := r.c.Support
				ok := !(f.Viewer != 0 && r.revoke) &&
					(f.Status == "" || s.Status == f.Status) && (f.LastFrom == "" || s.LastFrom == f.LastFrom) &&
					(f.Assignees == nil || slices.Contains(f.Assignees, s.AssigneeID))
				has := func(tg int64) bool { pinned, on := r.tags[tg]; return on && (pinned || !f.Pinned) }
				for _, tg := range f.TagIDs {
					ok = ok && has(tg)
				}
				any := slices.ContainsFunc(tags, has)
				if f.NoTags {
					ok = ok && !any
				} else if f.Pinned && len(f.TagIDs) == 0 {
					ok = ok && any
				}
				if ok {
					out = append(out, r)
				}
			}
			waiting := func(r *row) bool { return f.Sort == parley.SortProcessing && !r.c.Support.WaitingSince.IsZero() }
			slices.SortFunc(out, func(a, b *row) int {
				wa, wb := waiting(a), waiting(b)
				switch {
				case wa && wb:
					return cmp.Or(a.c.Support.WaitingSince.Compare(b.c.Support.WaitingSince), cmp.Compare(a.c.ID, b.c.ID))
				case wa != wb:
					if wa {
						return -1
					}
					return 1
				}
				return cmp.Or(b.c.Support.ActivityAt.Compare(a.c.Support.ActivityAt), cmp.Compare(b.c.ID, a.c.ID))
			})
			ids := []int64{}
			for _, r := range out {
				ids = append(ids, r.c.ID)
			}
			return ids
		}
		filters := []parley.DialogFilter{
			{}, {Viewer: viewer}, {Status: parley.SupportOpen}, {Status: parley.SupportClosed}, {LastFrom: parley.FromManager},
			{Assignees: []int64{0}}, {Assignees: []int64{0, us[1].ID}}, {TagIDs: tags[:1]}, {TagIDs: tags[:2]},
			{TagIDs: tags[1:2], Pinned: true}, {Pinned: true}, {NoTags: true}, {NoTags: true, Pinned: true},
			{TagIDs: tags[2:3], Status: parley.SupportOpen, Viewer: viewer},
		}
		for _, rare := range []int64{2000, 0} {
			restore := sqlstore.SetRareTag(rare)
			for _, sort := range []string{parley.SortActivity, parley.SortProcessing} {
				for _, f := range filters {
					f.Sort, f.Limit = sort, 3
					var got []int64
					for range 50 {
						page, next, err := s.Dialogs(ctx, f)
						must(t, err)
						for _, c := range page {
							got = append(got, c.ID)
						}
						if f.Cursor = next; next == "" {
							break
						}
					}
					if want := model(f); !slices.Equal(got, want) {
						t.Errorf("rare tag %d, %+v:\n got %v\nwant %v", rare, f, got, want)
					}
				}
			}
			restore()
		}
	})
}
