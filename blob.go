package parley

import (
	"context"
	"io"
	"time"
)

// BlobInfo describes a stored file.
type BlobInfo struct {
	Size        int64
	ContentType string
	ModTime     time.Time
}

// Blobs stores uploaded files by key. Keys are chosen by the services
// ("files/<id>", "thumbs/<id>"); they contain only [a-z0-9/_.-].
type Blobs interface {
	// Put stores size bytes from r under key, replacing any earlier file.
	// A reader that yields fewer or more than size bytes is an error and
	// leaves nothing stored.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens the file at key. Returns ENOTFOUND if there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, BlobInfo, error)
	// Delete removes the file at key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}
