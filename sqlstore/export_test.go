package sqlstore

// SetSearchWindow sets how many of a user's newest messages a search reads
// before it turns to the full-text index, and returns a function that
// restores it.
func SetSearchWindow(n int64) (restore func()) {
	old := searchWindow
	searchWindow = n
	return func() { searchWindow = old }
}
