// Package blobtest is the conformance suite for parley.Blobs: every
// implementation runs it, so services can rely on the same behaviour from
// files on disk and objects in S3.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// Run checks b against the contract of parley.Blobs. b may hold other keys;
// the suite uses only keys under "blobtest/".
func Run(t *testing.T, b parley.Blobs) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, b) })
	t.Run("EmptyObject", func(t *testing.T) { testEmpty(t, b) })
	t.Run("DefaultContentType", func(t *testing.T) { testDefaultContentType(t, b) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, b) })
	t.Run("SizeMismatch", func(t *testing.T) { testSizeMismatch(t, b) })
	t.Run("ReaderError", func(t *testing.T) { testReaderError(t, b) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelled(t, b) })
	t.Run("Missing", func(t *testing.T) { testMissing(t, b) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, b) })
	t.Run("PrefixIsNotAKey", func(t *testing.T) { testPrefixIsNotAKey(t, b) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, b) })
	t.Run("InvalidContentType", func(t *testing.T) { testInvalidContentType(t, b) })
	t.Run("Large", func(t *testing.T) { testLarge(t, b) })
	t.Run("ConcurrentKeys", func(t *testing.T) { testConcurrentKeys(t, b) })
	t.Run("ConcurrentOverwrite", func(t *testing.T) { testConcurrentOverwrite(t, b) })
}

func testRoundTrip(t *testing.T, b parley.Blobs) {
	tests := []struct {
		key, contentType string
		data             []byte
	}{
		{"blobtest/roundtrip/plain", "text/plain; charset=utf-8", []byte("hello, parley\n")},
		{"blobtest/roundtrip/deep/er/still.png", "image/png", randomBytes(t, 4096)},
		{"blobtest/roundtrip/0_a.b-c", "application/json", []byte(`{"a":1}`)},
		{"blobtest-top-level", "text/plain", []byte("x")},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			before := time.Now()
			MustPut(t, b, tt.key, tt.data, tt.contentType)
			got, info := MustGet(t, b, tt.key)
			if !bytes.Equal(got, tt.data) {
				t.Errorf("Get returned %d bytes %q, want %d bytes %q", len(got), clip(got), len(tt.data), clip(tt.data))
			}
			if info.Size != int64(len(tt.data)) {
				t.Errorf("Size = %d, want %d", info.Size, len(tt.data))
			}
			if info.ContentType != tt.contentType {
				t.Errorf("ContentType = %q, want %q", info.ContentType, tt.contentType)
			}
			// S3 reports whole seconds; allow for that and for clock skew.
			if info.ModTime.Before(before.Add(-time.Minute)) || info.ModTime.After(time.Now().Add(time.Minute)) {
				t.Errorf("ModTime = %v, want about %v", info.ModTime, before)
			}
		})
	}
}

func testEmpty(t *testing.T, b parley.Blobs) {
	key := "blobtest/empty"
	MustPut(t, b, key, nil, "text/plain")
	got, info := MustGet(t, b, key)
	if len(got) != 0 || info.Size != 0 {
		t.Errorf("Get returned %d bytes, Size %d; want 0, 0", len(got), info.Size)
	}
}

func testDefaultContentType(t *testing.T, b parley.Blobs) {
	key := "blobtest/default-type"
	MustPut(t, b, key, []byte("data"), "")
	if _, info := MustGet(t, b, key); info.ContentType != "application/octet-stream" {
		t.Errorf("ContentType = %q, want application/octet-stream", info.ContentType)
	}
}

func testOverwrite(t *testing.T, b parley.Blobs) {
	key := "blobtest/overwrite"
	MustPut(t, b, key, []byte("the first, longer version"), "text/plain")
	MustPut(t, b, key, []byte("second"), "text/markdown")
	got, info := MustGet(t, b, key)
	if string(got) != "second" || info.Size != 6 || info.ContentType != "text/markdown" {
		t.Errorf("Get = %q, Size %d, ContentType %q; want %q, 6, text/markdown", got, info.Size, info.ContentType, "second")
	}
}

// testSizeMismatch checks that a reader yielding fewer or more bytes than
// promised is EINVALID, stores nothing under a new key and leaves an
// existing file as it was.
func testSizeMismatch(t *testing.T, b parley.Blobs) {
	tests := []struct {
		name string
		data string
		size int64
	}{
		{"Short", "12345", 6},
		{"ShortEmpty", "", 1},
		{"Long", "1234567", 6},
		{"LongByOne", "123456", 5},
		{"LongFromEmpty", "1", 0},
		{"Negative", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			key := "blobtest/mismatch/" + strings.ToLower(tt.name)
			err := b.Put(ctx, key, strings.NewReader(tt.data), tt.size, "text/plain")
			WantCode(t, err, parley.EINVALID)
			_, _, err = b.Get(ctx, key)
			WantCode(t, err, parley.ENOTFOUND)

			MustPut(t, b, key, []byte("kept"), "text/x-kept")
			err = b.Put(ctx, key, strings.NewReader(tt.data), tt.size, "text/plain")
			WantCode(t, err, parley.EINVALID)
			got, info := MustGet(t, b, key)
			if string(got) != "kept" || info.ContentType != "text/x-kept" {
				t.Errorf("after a failed Put, Get = %q (%s), want the earlier %q (text/x-kept)", got, info.ContentType, "kept")
			}
		})
	}

	// A large reader that runs over must also be caught, not just cut off
	// after size bytes.
	t.Run("LongLarge", func(t *testing.T) {
		key := "blobtest/mismatch/longlarge"
		data := randomBytes(t, 1<<20)
		err := b.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)-1), "application/octet-stream")
		WantCode(t, err, parley.EINVALID)
		_, _, err = b.Get(context.Background(), key)
		WantCode(t, err, parley.ENOTFOUND)
	})
}

func testReaderError(t *testing.T, b parley.Blobs) {
	key := "blobtest/reader-error"
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("partial"), errReader{boom})
	if err := b.Put(context.Background(), key, r, 100, "text/plain"); err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	_, _, err := b.Get(context.Background(), key)
	WantCode(t, err, parley.ENOTFOUND)
}

func testCancelled(t *testing.T, b parley.Blobs) {
	key := "blobtest/cancelled"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Put(ctx, key, strings.NewReader("data"), 4, "text/plain"); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	_, _, err := b.Get(context.Background(), key)
	WantCode(t, err, parley.ENOTFOUND)
}

func testMissing(t *testing.T, b parley.Blobs) {
	for _, key := range []string{"blobtest/missing", "blobtest/missing/deeper/still", "blobtest-missing"} {
		rc, _, err := b.Get(context.Background(), key)
		if rc != nil {
			rc.Close()
			t.Errorf("Get(%q) returned a reader for a missing key", key)
		}
		WantCode(t, err, parley.ENOTFOUND)
	}
}

func testDelete(t *testing.T, b parley.Blobs) {
	ctx := context.Background()
	key := "blobtest/delete/me"
	MustPut(t, b, key, []byte("bye"), "text/plain")
	if err := b.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, _, err := b.Get(ctx, key)
	WantCode(t, err, parley.ENOTFOUND)
	if err := b.Delete(ctx, key); err != nil {
		t.Errorf("Delete of a deleted key: %v", err)
	}
	if err := b.Delete(ctx, "blobtest/delete/never-stored"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	// The key can be used again.
	MustPut(t, b, key, []byte("back"), "text/plain")
	if got, _ := MustGet(t, b, key); string(got) != "back" {
		t.Errorf("Get after re-Put = %q, want %q", got, "back")
	}
}

// testPrefixIsNotAKey checks that storing "a/b" does not make "a" a file.
func testPrefixIsNotAKey(t *testing.T, b parley.Blobs) {
	ctx := context.Background()
	MustPut(t, b, "blobtest/prefix/child", []byte("child"), "text/plain")
	_, _, err := b.Get(ctx, "blobtest/prefix")
	WantCode(t, err, parley.ENOTFOUND)
	if err := b.Delete(ctx, "blobtest/prefix"); err != nil {
		t.Errorf("Delete of a prefix: %v", err)
	}
	if got, _ := MustGet(t, b, "blobtest/prefix/child"); string(got) != "child" {
		t.Errorf("child = %q after deleting its prefix, want %q", got, "child")
	}
}

func testInvalidKeys(t *testing.T, b parley.Blobs) {
	keys := []string{
		"",
		"/abs",
		"/etc/passwd",
		"..",
		".",
		"../x",
		"../../blobtest/escape",
		"a/../b",
		"a/..",
		"./a",
		"a/./b",
		"a//b",
		"a/",
		".hidden",
		"a/.hidden",
		"a/-dash",
		"-dash",
		"_under",
		"UPPER",
		"blobtest/Mixed",
		"a b",
		`a\b`,
		`..\x`,
		"a\x00b",
		"a\nb",
		"a:b",
		"a?b",
		"a%2fb",
		"é",
		strings.Repeat("a", 1025),
		"blobtest/" + strings.Repeat("a", 256),
	}
	ctx := context.Background()
	for _, key := range keys {
		t.Run(fmt.Sprintf("%.40q", key), func(t *testing.T) {
			r := &countingReader{r: strings.NewReader("data")}
			WantCode(t, b.Put(ctx, key, r, 4, "text/plain"), parley.EINVALID)
			if r.n > 0 {
				t.Errorf("Put read %d bytes before rejecting the key", r.n)
			}
			rc, _, err := b.Get(ctx, key)
			if rc != nil {
				rc.Close()
			}
			WantCode(t, err, parley.EINVALID)
			WantCode(t, b.Delete(ctx, key), parley.EINVALID)
		})
	}
}

func testInvalidContentType(t *testing.T, b parley.Blobs) {
	key := "blobtest/bad-type"
	for _, ct := range []string{"text/plain\nx-injected: 1", "text/plain\rx", "tëxt/plain", "not a type", strings.Repeat("a", 250) + "/plain"} {
		WantCode(t, b.Put(context.Background(), key, strings.NewReader("data"), 4, ct), parley.EINVALID)
	}
	_, _, err := b.Get(context.Background(), key)
	WantCode(t, err, parley.ENOTFOUND)
}

func testLarge(t *testing.T, b parley.Blobs) {
	key := "blobtest/large"
	data := randomBytes(t, 5<<20)
	// A reader with no WriterTo or ReaderAt, like an upload stream.
	err := b.Put(context.Background(), key, struct{ io.Reader }{bytes.NewReader(data)}, int64(len(data)), "application/octet-stream")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, info := MustGet(t, b, key)
	if info.Size != int64(len(data)) || !bytes.Equal(got, data) {
		t.Errorf("Get returned %d bytes (Size %d), equal %v; want the %d bytes put", len(got), info.Size, bytes.Equal(got, data), len(data))
	}
}

func testConcurrentKeys(t *testing.T, b parley.Blobs) {
	const n = 16
	data := make([][]byte, n)
	for i := range data {
		data[i] = randomBytes(t, 64<<10+i)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("blobtest/concurrent/%d/file", i)
			if err := b.Put(context.Background(), key, bytes.NewReader(data[i]), int64(len(data[i])), "application/octet-stream"); err != nil {
				t.Errorf("Put(%s): %v", key, err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		key := fmt.Sprintf("blobtest/concurrent/%d/file", i)
		if got, _ := MustGet(t, b, key); !bytes.Equal(got, data[i]) {
			t.Errorf("%s holds %d bytes that differ from the %d put", key, len(got), len(data[i]))
		}
	}
}

// testConcurrentOverwrite checks that racing Puts of one key leave one of
// them whole: bytes and content type from the same writer.
func testConcurrentOverwrite(t *testing.T, b parley.Blobs) {
	const n = 8
	key := "blobtest/contended"
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte('a' + i)}, 256<<10)
			if err := b.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), fmt.Sprintf("text/x-writer-%d", i)); err != nil {
				t.Errorf("Put by writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	got, info := MustGet(t, b, key)
	if len(got) != 256<<10 {
		t.Fatalf("Get returned %d bytes, want %d", len(got), 256<<10)
	}
	writer := int(got[0] - 'a')
	if !bytes.Equal(got, bytes.Repeat(got[:1], len(got))) {
		t.Errorf("stored bytes mix several writers")
	}
	if want := fmt.Sprintf("text/x-writer-%d", writer); info.ContentType != want {
		t.Errorf("ContentType = %q, but the bytes are from writer %d (%s)", info.ContentType, writer, want)
	}
}

// MustPut stores data under key or fails the test.
func MustPut(tb testing.TB, b parley.Blobs, key string, data []byte, contentType string) {
	tb.Helper()
	if err := b.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		tb.Fatalf("Put(%q): %v", key, err)
	}
}

// MustGet reads the whole file at key or fails the test.
func MustGet(tb testing.TB, b parley.Blobs, key string) ([]byte, parley.BlobInfo) {
	tb.Helper()
	rc, info, err := b.Get(context.Background(), key)
	if err != nil {
		tb.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("reading %q: %v", key, err)
	}
	return data, info
}

// WantCode fails the test unless err is a *parley.Error with code.
func WantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	var e *parley.Error
	if !errors.As(err, &e) || e.Code != code {
		tb.Errorf("error = %v, want a *parley.Error with code %s", err, code)
	}
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	data := make([]byte, n)
	rand.Read(data)
	return data
}

func clip(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
