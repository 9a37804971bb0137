// Package blob stores uploaded files: on local disk (Disk) for a single node
// and in S3-compatible storage (S3) for many nodes. Both implement
// parley.Blobs with the same rules for keys, content types and sizes, which
// the conformance suite in blob/blobtest checks.
package blob

import (
	"context"
	"io"
	"mime"
	"strings"

	"github.com/parley-chat/parley"
)

// Limits on keys. S3 caps object names at 1024 bytes and most file systems
// cap a name at 255 bytes; applying both to every implementation means a
// key accepted by one is accepted by all.
const (
	maxKeyLen     = 1024
	maxSegmentLen = 255
)

// maxContentTypeLen bounds the content type so it fits in a header line on
// disk and in an HTTP header in S3.
const maxContentTypeLen = 255

// defaultContentType is stored when the caller gives none, so Get always
// reports a usable type.
const defaultContentType = "application/octet-stream"

// checkKey returns EINVALID unless key is made of one or more segments
// separated by single slashes, each beginning with [a-z0-9] and continuing
// with [a-z0-9_.-]. This is ^[a-z0-9][a-z0-9/_.-]*$ with the first-character
// rule applied to every segment, which rules out "", leading or trailing
// slashes, "//", "." and ".." segments and hidden names. On disk that makes
// every key a plain relative path that cannot leave the store's directory
// and cannot collide with the store's own dot-named temporary files; in S3
// it keeps keys that a disk store would reject out of the bucket too.
func checkKey(key string) error {
	if key == "" {
		return parley.Invalid("key", "key is empty")
	}
	if len(key) > maxKeyLen {
		return parley.Invalid("key", "key is longer than %d bytes", maxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return parley.Invalid("key", "key %q has an empty segment", key)
		}
		if len(seg) > maxSegmentLen {
			return parley.Invalid("key", "key %q has a segment longer than %d bytes", key, maxSegmentLen)
		}
		if !isLowerAlnum(seg[0]) {
			return parley.Invalid("key", "key %q has a segment that does not begin with [a-z0-9]", key)
		}
		for i := 1; i < len(seg); i++ {
			if c := seg[i]; !isLowerAlnum(c) && c != '_' && c != '.' && c != '-' {
				return parley.Invalid("key", "key %q may contain only [a-z0-9/_.-]", key)
			}
		}
	}
	return nil
}

func isLowerAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

// cleanContentType returns the content type to store: ct without
// surrounding spaces, or defaultContentType if that leaves nothing. It
// returns EINVALID for anything that is not a printable-ASCII media type,
// since a newline would corrupt the disk header and S3 would mangle or
// refuse a non-ASCII header.
func cleanContentType(ct string) (string, error) {
	ct = strings.TrimSpace(ct)
	if ct == "" {
		return defaultContentType, nil
	}
	if len(ct) > maxContentTypeLen {
		return "", parley.Invalid("content_type", "content type is longer than %d bytes", maxContentTypeLen)
	}
	for i := 0; i < len(ct); i++ {
		if ct[i] < 0x20 || ct[i] > 0x7e {
			return "", parley.Invalid("content_type", "content type may contain only printable ASCII")
		}
	}
	mt, _, err := mime.ParseMediaType(ct)
	typ, sub, _ := strings.Cut(mt, "/")
	if err != nil || typ == "" || sub == "" {
		return "", parley.Invalid("content_type", "content type %q is not a type/subtype media type", ct)
	}
	return ct, nil
}

func checkSize(size int64) error {
	if size < 0 {
		return parley.Invalid("size", "size %d is negative", size)
	}
	return nil
}

// exactReader yields exactly the size bytes promised to Put, or fails.
// When the last promised byte has been read it looks for one more: if the
// source has it, the final chunk is withheld and an EINVALID error returned
// instead, so whatever consumes the reader (a file, an HTTP upload) never
// sees a complete body and nothing is committed. A source that ends early
// gets an EINVALID error in place of io.EOF for the same reason.
type exactReader struct {
	r    io.Reader
	size int64
	left int64
	err  error // sticky: the first failure, returned by every later Read
	done bool  // the source is known to end exactly at size
}

func newExactReader(r io.Reader, size int64) *exactReader {
	return &exactReader{r: r, size: size, left: size}
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.left == 0 {
		if err := e.finish(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case e.left == 0:
		if err := e.finish(); err != nil {
			return 0, err
		}
		return n, nil
	case err == io.EOF:
		e.err = parley.Invalid("size", "content ended after %d bytes, expected %d", e.size-e.left, e.size)
		return 0, e.err
	case err != nil:
		e.err = err
		return n, err
	}
	return n, nil
}

// finish checks that the source ends where it should. Put calls it before
// uploading an empty object, whose body may never be read at all.
func (e *exactReader) finish() error {
	if e.err != nil || e.done {
		return e.err
	}
	if e.left > 0 {
		e.err = parley.Invalid("size", "content ended after %d bytes, expected %d", e.size-e.left, e.size)
		return e.err
	}
	var one [1]byte
	switch _, err := io.ReadFull(e.r, one[:]); err {
	case nil:
		e.err = parley.Invalid("size", "content is longer than %d bytes", e.size)
	case io.EOF:
		e.done = true
	default:
		e.err = err
	}
	return e.err
}

// ctxReader stops a copy from a slow or endless source once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
