package blob_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/blob/blobtest"
)

// realS3 returns the S3 store named by PARLEY_TEST_S3
// ("endpoint,bucket,access key,secret key[,region]", e.g.
// "127.0.0.1:8333,parley,key,secret"), under a prefix of its own so runs
// never meet, or skips. It skips under CI too: CI installs no S3 server;
// docs/operations.md says which servers were checked and how.
func realS3(t *testing.T) (blob.S3Config, string) {
	t.Helper()
	spec := os.Getenv("PARLEY_TEST_S3")
	if spec == "" {
		t.Skip("PARLEY_TEST_S3 is not set (endpoint,bucket,access key,secret key[,region] of a real S3-compatible server)")
	}
	f := strings.Split(spec, ",")
	if len(f) < 4 {
		t.Fatalf("PARLEY_TEST_S3=%q: want endpoint,bucket,access key,secret key[,region]", spec)
	}
	cfg := blob.S3Config{Endpoint: f[0], Bucket: f[1], AccessKey: f[2], SecretKey: f[3], CreateBucket: true}
	if len(f) > 4 {
		cfg.Region = f[4]
	}
	var b [4]byte
	rand.Read(b[:])
	cfg.Prefix = "parley-test-" + hex.EncodeToString(b[:]) + "/"
	return cfg, f[0]
}

// TestS3Real runs the conformance suite against a real S3-compatible
// server (PARLEY_TEST_S3).
func TestS3Real(t *testing.T) {
	cfg, _ := realS3(t)
	s, err := blob.NewS3(cfg)
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	blobtest.Run(t, s)
}

// TestS3Streams checks that files stream through minio-go in both
// directions, on the in-process server and, with PARLEY_TEST_S3, on a real
// one: the server receives an upload's bytes while the reader still has
// more to give, and Get returns, and its bytes can be read, while the
// server has sent only part of the file. A client that held a whole file
// in memory would wait forever on each and fail the test.
func TestS3Streams(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		testStreams(t, gofakes3.New(s3mem.New()).Server(), blob.S3Config{Bucket: "parley",
			AccessKey: testAccessKey, SecretKey: testSecretKey, Region: "us-east-1", CreateBucket: true})
	})
	t.Run("real", func(t *testing.T) {
		cfg, endpoint := realS3(t)
		// The proxy keeps the Host header the client signed.
		proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: endpoint})
		proxy.FlushInterval = -1
		director := proxy.Director
		proxy.Director = func(r *http.Request) {
			host := r.Host
			director(r)
			r.Host = host
		}
		testStreams(t, proxy, cfg)
	})
}

func testStreams(t *testing.T, upstream http.Handler, cfg blob.S3Config) {
	w := &watcher{next: upstream, release: make(chan struct{})}
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	cfg.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	s, err := blob.NewS3(cfg)
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// One request (up to 16 MiB) and in parts (larger): the reader pauses
	// beyond what the client may hold (none of a single request's body; a
	// part, 16 MiB, of a multipart upload) until the server has received
	// bytes.
	for _, tt := range []struct {
		name        string
		size, pause int64
	}{
		{"single", 8 << 20, 4 << 20},
		{"multipart", 20 << 20, 16<<20 + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := w.received.Load()
			r := &pausingReader{left: tt.size, pause: tt.pause, until: func() bool { return w.received.Load() > before }}
			if err := s.Put(ctx, "stream/"+tt.name, r, tt.size, "application/octet-stream"); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if !r.waited {
				t.Errorf("the reader never had to wait")
			}
			if r.timedOut {
				t.Errorf("the server received nothing while the reader held back byte %d of %d: the upload is buffered whole", tt.pause, tt.size)
			}
		})
	}

	// The download of the multipart file: the server sends 1 MiB and waits
	// for the client to have read it.
	w.holdGet.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rc, info, err := s.Get(ctx, "stream/multipart")
		if err != nil {
			t.Errorf("Get: %v", err)
			close(w.release)
			return
		}
		defer rc.Close()
		if _, err := io.ReadFull(rc, make([]byte, 1<<20)); err != nil {
			t.Errorf("reading the first MiB: %v", err)
		}
		if w.held.Load() {
			close(w.release)
		} else {
			t.Errorf("the client read before the server held back")
			close(w.release)
		}
		n, err := io.Copy(io.Discard, rc)
		if err != nil || n+1<<20 != info.Size {
			t.Errorf("read %d more bytes of %d (%v)", n, info.Size, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		close(w.release)
		t.Fatal("Get did not return while the server held back the rest of the file: the download is buffered whole")
	}
}

// watcher counts the bytes of request bodies the server receives, and can
// hold a download after its first MiB.
type watcher struct {
	next     http.Handler
	received atomic.Int64
	holdGet  atomic.Bool
	held     atomic.Bool
	release  chan struct{}
}

func (w *watcher) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Body != nil {
		r.Body = &countingBody{ReadCloser: r.Body, n: &w.received}
	}
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "stream/") && w.holdGet.Load() {
		rw = &holdingWriter{ResponseWriter: rw, w: w, left: 1 << 20}
	}
	w.next.ServeHTTP(rw, r)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// holdingWriter passes left bytes, flushes them and then waits for the
// watcher's release.
type holdingWriter struct {
	http.ResponseWriter
	w    *watcher
	left int
}

func (h *holdingWriter) Write(p []byte) (int, error) {
	if h.left <= 0 {
		return h.ResponseWriter.Write(p)
	}
	n := min(len(p), h.left)
	if _, err := h.ResponseWriter.Write(p[:n]); err != nil {
		return 0, err
	}
	h.left -= n
	if h.left > 0 {
		return n, nil
	}
	http.NewResponseController(h.ResponseWriter).Flush()
	h.w.held.Store(true)
	select {
	case <-h.w.release:
	case <-time.After(time.Minute):
	}
	m, err := h.ResponseWriter.Write(p[n:])
	return n + m, err
}

var pattern = func() []byte {
	b := make([]byte, 64<<10)
	rand.Read(b)
	return b
}()

// pausingReader yields left bytes; before the byte at pause it waits
// (up to 30 s) until until() holds.
type pausingReader struct {
	left, pause, pos int64
	until            func() bool
	waited, timedOut bool
}

func (p *pausingReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if p.pos < p.pause && p.pos+int64(len(b)) > p.pause {
		b = b[:p.pause-p.pos]
	}
	if p.pos == p.pause && !p.waited {
		p.waited = true
		deadline := time.Now().Add(30 * time.Second)
		for !p.until() {
			if time.Now().After(deadline) {
				p.timedOut = true
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	n := int(min(int64(len(b)), p.left))
	for i := 0; i < n; {
		i += copy(b[i:n], pattern[(p.pos+int64(i))%int64(len(pattern)):])
	}
	p.pos += int64(n)
	p.left -= int64(n)
	return n, nil
}
