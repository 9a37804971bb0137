package sqlstore

import (
	"context"

	"github.com/parley-chat/parley"
)

// SetSearchWindow sets how many of a user's newest messages a search reads
// before it turns to the full-text index, and returns a function that
// restores it.
func SetSearchWindow(n int64) (restore func()) {
	old := searchWindow
	searchWindow = n
	return func() { searchWindow = old }
}

// MergeSearchIndex runs one step of idle merging (SQLite).
func (s *Store) MergeSearchIndex(pages int) (merged bool, err error) {
	_, err = s.Write(context.Background(), func(tx parley.Tx) error {
		merged, err = mergeSearchIndex(context.Background(), &tx.(*txn).q, pages)
		return err
	})
	return merged, err
}

// SetRareTag sets below how many customers a tag drives the dialog list
// (0: never), and returns a function that restores it.
func SetRareTag(n int64) (restore func()) {
	old := rareTagCustomers
	rareTagCustomers = n
	return func() { rareTagCustomers = old }
}
