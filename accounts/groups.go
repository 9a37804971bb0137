package accounts

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// GroupInput creates or replaces a group.
type GroupInput struct {
	Name      string   `json:"name"`
	ParentID  int64    `json:"parent_id"`
	Rights    []string `json:"rights" max:"50"`
	MemberIDs []int64  `json:"member_ids" max:"10000"`
}

// Groups lists the organisation's groups (its contact tree); everyone may
// browse it.
func (s *Service) Groups(ctx context.Context) ([]*parley.Group, error) {
	return s.store.Groups(ctx)
}

// Bounds of a group (the max tags of GroupInput).
const (
	maxGroupRights = 50
	maxGroupUsers  = 10000
)

// SaveGroup creates a group (id 0) or replaces one. It needs users.manage;
// granting rights the actor does not hold needs an administrator.
func (s *Service) SaveGroup(ctx context.Context, actor *parley.User, id int64, in GroupInput) (*parley.Group, error) {
	if err := s.require(ctx, actor, parley.RightUsersManage); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > maxName || !utf8.ValidString(name) {
		return nil, parley.Invalid("name", "a group name of 1 to %d characters is required", maxName)
	}
	if err := parley.AtMost("rights", len(in.Rights), maxGroupRights, "rights"); err != nil {
		return nil, err
	}
	if err := parley.AtMost("member_ids", len(in.MemberIDs), maxGroupUsers, "members"); err != nil {
		return nil, err
	}
	for _, r := range in.Rights {
		if !slices.Contains(parley.KnownRights, r) {
			return nil, parley.Invalid("rights", "unknown right %q", r)
		}
		if !s.HasRight(ctx, actor, r) {
			return nil, parley.Errorf(parley.EFORBIDDEN, "you cannot grant the %s right", r)
		}
	}
	g := &parley.Group{ID: id, Name: name, ParentID: in.ParentID, Rights: in.Rights, MemberIDs: dedupe(in.MemberIDs)}
	if g.Rights == nil {
		g.Rights = []string{}
	}
	err := s.write(ctx, func(tx parley.Tx) error {
		if g.ParentID != 0 {
			if err := s.checkParent(ctx, tx, g.ID, g.ParentID); err != nil {
				return err
			}
		}
		if len(g.MemberIDs) > 0 {
			users, _, err := tx.Users(ctx, parley.UserFilter{IDs: g.MemberIDs, Limit: len(g.MemberIDs)})
			if err != nil {
				return err
			}
			if len(users) != len(g.MemberIDs) {
				return parley.Invalid("member_ids", "unknown user in member_ids")
			}
		}
		if id == 0 {
			return tx.CreateGroup(ctx, g)
		}
		old, err := tx.GroupByID(ctx, id)
		if err != nil {
			return err
		}
		g.CreatedAt = old.CreatedAt
		return tx.UpdateGroup(ctx, g)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// checkParent refuses an unknown parent and a cycle in the tree.
func (s *Service) checkParent(ctx context.Context, tx parley.Tx, id, parent int64) error {
	for seen := 0; parent != 0; seen++ {
		if parent == id || seen > 100 {
			return parley.Invalid("parent_id", "a group cannot be inside itself")
		}
		g, err := tx.GroupByID(ctx, parent)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return parley.Invalid("parent_id", "unknown parent group")
		}
		if err != nil {
			return err
		}
		parent = g.ParentID
	}
	return nil
}

// DeleteGroup removes a group; its children move to the top level.
func (s *Service) DeleteGroup(ctx context.Context, actor *parley.User, id int64) error {
	if err := s.require(ctx, actor, parley.RightUsersManage); err != nil {
		return err
	}
	return s.write(ctx, func(tx parley.Tx) error { return tx.DeleteGroup(ctx, id) })
}

// Friends returns the actor's "My friends" list.
func (s *Service) Friends(ctx context.Context, actor *parley.User) ([]*parley.User, error) {
	ids, err := s.store.FriendIDs(ctx, actor.ID)
	if err != nil || len(ids) == 0 {
		return []*parley.User{}, err
	}
	users, _, err := s.store.Users(ctx, parley.UserFilter{IDs: ids, Limit: len(ids)})
	return users, err
}

// AddFriend puts an active user on the actor's friends list.
func (s *Service) AddFriend(ctx context.Context, actor *parley.User, friendID int64) error {
	if friendID == actor.ID {
		return parley.Invalid("user_id", "you cannot add yourself")
	}
	return s.write(ctx, func(tx parley.Tx) error {
		u, err := tx.UserByID(ctx, friendID)
		if err != nil {
			return err
		}
		if !u.Active {
			return parley.Invalid("user_id", "this user is deactivated")
		}
		return tx.AddFriend(ctx, actor.ID, friendID)
	})
}

// RemoveFriend takes a user off the actor's friends list.
func (s *Service) RemoveFriend(ctx context.Context, actor *parley.User, friendID int64) error {
	return s.write(ctx, func(tx parley.Tx) error { return tx.RemoveFriend(ctx, actor.ID, friendID) })
}

func dedupe(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
