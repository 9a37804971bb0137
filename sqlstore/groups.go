package sqlstore

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/parley-chat/parley"
)

func scanGroup(r scanner) (*parley.Group, error) {
	var g parley.Group
	var rights string
	var created int64
	if err := r.Scan(&g.ID, &g.Name, &g.ParentID, &rights, &created); err != nil {
		return nil, err
	}
	g.CreatedAt = parley.TimeFromMillis(created)
	g.Rights = []string{}
	if rights != "" {
		if err := json.Unmarshal([]byte(rights), &g.Rights); err != nil {
			return nil, err
		}
	}
	return &g, nil
}

// withMembers fills MemberIDs of every group in one query.
func (q *q) withMembers(ctx context.Context, groups []*parley.Group) ([]*parley.Group, error) {
	byID := make(map[int64]*parley.Group, len(groups))
	for _, g := range groups {
		g.MemberIDs = []int64{}
		byID[g.ID] = g
	}
	rows, err := q.query(ctx, "SELECT group_id, user_id FROM group_members ORDER BY group_id, user_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var gid, uid int64
		if err := rows.Scan(&gid, &uid); err != nil {
			return nil, err
		}
		if g := byID[gid]; g != nil {
			g.MemberIDs = append(g.MemberIDs, uid)
		}
	}
	return groups, rows.Err()
}

func (q *q) Groups(ctx context.Context) ([]*parley.Group, error) {
	rows, err := q.query(ctx, "SELECT id, name, parent_id, rights, created_at FROM user_groups ORDER BY name, id")
	if err != nil {
		return nil, err
	}
	groups, err := collect(rows, scanGroup)
	if err != nil {
		return nil, err
	}
	return q.withMembers(ctx, groups)
}

func (q *q) GroupByID(ctx context.Context, id int64) (*parley.Group, error) {
	g, err := scanGroup(q.queryRow(ctx, "SELECT id, name, parent_id, rights, created_at FROM user_groups WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "group")
	}
	ids, err := q.query(ctx, "SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id", id)
	if err != nil {
		return nil, err
	}
	if g.MemberIDs, err = collectInt64(ids); err != nil {
		return nil, err
	}
	if g.MemberIDs == nil {
		g.MemberIDs = []int64{}
	}
	return g, nil
}

func (q *q) GroupsOfUser(ctx context.Context, userID int64) ([]*parley.Group, error) {
	rows, err := q.query(ctx, `SELECT g.id, g.name, g.parent_id, g.rights, g.created_at FROM user_groups g
		JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name, g.id`, userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanGroup)
}

func (q *q) CreateGroup(ctx context.Context, g *parley.Group) error {
	g.CreatedAt = parley.Now()
	err := q.row(ctx, "group", "INSERT INTO user_groups (name, parent_id, rights, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
		[]any{g.Name, g.ParentID, rightsText(g.Rights), parley.Millis(g.CreatedAt)}, &g.ID)
	if err != nil {
		return err
	}
	return q.setGroupMembers(ctx, g)
}

func (q *q) UpdateGroup(ctx context.Context, g *parley.Group) error {
	if err := q.execOne(ctx, "group", "UPDATE user_groups SET name = $2, parent_id = $3, rights = $4 WHERE id = $1",
		g.ID, g.Name, g.ParentID, rightsText(g.Rights)); err != nil {
		return err
	}
	return q.setGroupMembers(ctx, g)
}

func (q *q) setGroupMembers(ctx context.Context, g *parley.Group) error {
	if _, err := q.exec(ctx, "DELETE FROM group_members WHERE group_id = $1", g.ID); err != nil {
		return err
	}
	for _, uid := range g.MemberIDs {
		if _, err := q.exec(ctx, "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", g.ID, uid); err != nil {
			return mapErr(err, "group member")
		}
	}
	return nil
}

func rightsText(r []string) string {
	if len(r) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(r)
	return string(b)
}

func (q *q) DeleteGroup(ctx context.Context, id int64) error {
	if _, err := q.exec(ctx, "DELETE FROM group_members WHERE group_id = $1", id); err != nil {
		return err
	}
	if _, err := q.exec(ctx, "UPDATE user_groups SET parent_id = 0 WHERE parent_id = $1", id); err != nil {
		return err
	}
	return q.execOne(ctx, "group", "DELETE FROM user_groups WHERE id = $1", id)
}

func (q *q) FriendIDs(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := q.query(ctx, "SELECT friend_id FROM friends WHERE user_id = $1 ORDER BY created_at, friend_id", userID)
	if err != nil {
		return nil, err
	}
	return collectInt64(rows)
}

func (q *q) AddFriend(ctx context.Context, userID, friendID int64) error {
	_, err := q.exec(ctx, "INSERT INTO friends (user_id, friend_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		userID, friendID, parley.Millis(parley.Now()))
	return err
}

func (q *q) RemoveFriend(ctx context.Context, userID, friendID int64) error {
	_, err := q.exec(ctx, "DELETE FROM friends WHERE user_id = $1 AND friend_id = $2", userID, friendID)
	return err
}

func (q *q) ContactIDs(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := q.query(ctx, `SELECT m2.user_id FROM members m1 JOIN members m2 ON m2.conversation_id = m1.conversation_id
		WHERE m1.user_id = $1 AND m2.user_id <> $1
		UNION SELECT friend_id FROM friends WHERE user_id = $1
		UNION SELECT user_id FROM friends WHERE friend_id = $1`, userID)
	if err != nil {
		return nil, err
	}
	return collectInt64(rows)
}

func (q *q) Setting(ctx context.Context, key string, v any) error {
	var raw string
	err := q.row(ctx, "setting", "SELECT value FROM settings WHERE key = $1", []any{key}, &raw)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(raw), v)
}

func (q *q) PutSetting(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = q.exec(ctx, "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, string(b))
	return err
}

func (q *q) UsersWithRight(ctx context.Context, right string) ([]int64, error) {
	rows, err := q.adhoc(ctx, usersWithRight(right)+" ORDER BY 1")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// usersWithRight is the query of UsersWithRight, a column named id, for
// use inside other statements. The right and the roles are the code's
// constants, quoted as literals.
func usersWithRight(right string) string {
	roles := make([]string, 0, 2)
	for _, r := range parley.RolesWithRight(right) {
		roles = append(roles, literal(string(r)))
	}
	return "SELECT gm.user_id AS id FROM group_members gm JOIN user_groups g ON g.id = gm.group_id WHERE g.rights LIKE " +
		literal(`%"`+right+`"%`) + " UNION SELECT id FROM users WHERE role IN (" + strings.Join(roles, ", ") + ")"
}

// literal quotes s as an SQL string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
