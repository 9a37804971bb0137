package sqlstore

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// FuzzCursor checks the paging cursors clients send back: what encodes
// decodes to the same key and id; any other string is refused with an
// EINVALID naming the cursor, or decodes to a key that is valid UTF-8
// without NUL (PostgreSQL fails a query with anything else, which would
// be a 500 for a made-up cursor) and that encodes to a cursor decoding
// the same.
func FuzzCursor(f *testing.F) {
	for _, c := range []string{encodeCursor("2024-12-05T10:00:00.000000Z", 42), encodeCursor("ann lee", -1), encodeCursor("", 0),
		"MTI6", "bm90IGEgY3Vyc29y", "%%%", "MTo\xff", "MTr_"} {
		f.Add(c, "key", int64(7))
	}
	f.Fuzz(func(t *testing.T, c, key string, id int64) {
		if utf8.ValidString(key) && !strings.ContainsRune(key, 0) {
			k, i, err := decodeCursor(encodeCursor(key, id))
			if err != nil || k != key || i != id {
				t.Fatalf("cursor of (%q, %d) decodes to (%q, %d, %v)", key, id, k, i, err)
			}
		}
		k, i, err := decodeCursor(c)
		if err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("cursor %q: %v", c, err)
			}
			return
		}
		if !utf8.ValidString(k) || strings.ContainsRune(k, 0) {
			t.Fatalf("cursor %q decodes to the key %q", c, k)
		}
		if k2, i2, err := decodeCursor(encodeCursor(k, i)); err != nil || k2 != k || i2 != i {
			t.Fatalf("cursor %q: (%q, %d) re-encoded decodes to (%q, %d, %v)", c, k, i, k2, i2, err)
		}
	})
}
