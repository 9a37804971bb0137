package sqlstore

import (
	"context"
	"strconv"
	"strings"
)

// FindContactIDs returns the newest customers whose name, e-mail or phone
// contains text (case-insensitive), for the composer's card search; the
// caller checks which the searcher may see.
func (q *q) FindContactIDs(ctx context.Context, text string, limit int) ([]int64, error) {
	p := "%" + escapeLike(strings.ToLower(text)) + "%"
	return q.idList(ctx, `SELECT id FROM contacts WHERE LOWER(name) LIKE $1 ESCAPE '\' OR LOWER(email) LIKE $1 ESCAPE '\'
		OR phone LIKE $1 ESCAPE '\' ORDER BY id DESC`+limitRows(limit), p)
}

// FindCaseIDs returns the newest cases whose title contains text, or whose
// number it is.
func (q *q) FindCaseIDs(ctx context.Context, text string, limit int) ([]int64, error) {
	p := "%" + escapeLike(strings.ToLower(text)) + "%"
	n, _ := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(text), "#"), 10, 64)
	return q.idList(ctx, `SELECT id FROM cases WHERE LOWER(title) LIKE $1 ESCAPE '\' OR id = $2 ORDER BY id DESC`+limitRows(limit), p, n)
}

func (q *q) idList(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := q.query(ctx, query, args...)
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
