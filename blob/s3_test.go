package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/blob/blobtest"
)

// Credentials for the fake server, which accepts any.
const (
	testAccessKey = "parley-test"
	testSecretKey = "parley-test-secret"
)

// MustFakeS3 starts an in-memory S3 server on 127.0.0.1 for the length of
// the test and returns its host:port.
func MustFakeS3(tb testing.TB) string {
	tb.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	tb.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// MustS3 returns an S3 store on a fresh fake server with its bucket created.
func MustS3(tb testing.TB, prefix string) (*blob.S3, string) {
	tb.Helper()
	endpoint := MustFakeS3(tb)
	s, err := blob.NewS3(blob.S3Config{
		Endpoint:     endpoint,
		Bucket:       "parley",
		AccessKey:    testAccessKey,
		SecretKey:    testSecretKey,
		Region:       "us-east-1",
		Prefix:       prefix,
		CreateBucket: true,
	})
	if err != nil {
		tb.Fatalf("NewS3: %v", err)
	}
	return s, endpoint
}

func TestS3(t *testing.T) {
	s, _ := MustS3(t, "")
	blobtest.Run(t, s)
}

func TestS3Prefix(t *testing.T) {
	s, endpoint := MustS3(t, "tenant/")
	blobtest.Run(t, s)

	// Objects live under the prefix and nowhere else.
	ctx := context.Background()
	blobtest.MustPut(t, s, "files/1", []byte("one"), "text/plain")
	raw, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(testAccessKey, testSecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.StatObject(ctx, "parley", "tenant/files/1", minio.StatObjectOptions{}); err != nil {
		t.Errorf("tenant/files/1 not in the bucket: %v", err)
	}
	for obj := range raw.ListObjects(ctx, "parley", minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		if !strings.HasPrefix(obj.Key, "tenant/") {
			t.Errorf("object %q is outside the prefix", obj.Key)
		}
	}
}

func TestS3CreateBucketTwice(t *testing.T) {
	endpoint := MustFakeS3(t)
	cfg := blob.S3Config{Endpoint: endpoint, Bucket: "parley", AccessKey: testAccessKey, SecretKey: testSecretKey, Region: "us-east-1", CreateBucket: true}
	for range 2 {
		if _, err := blob.NewS3(cfg); err != nil {
			t.Fatalf("NewS3: %v", err)
		}
	}
}

// TestS3MissingBucket checks that a misconfigured bucket is an internal
// error, never ENOTFOUND, which would make every file look deleted.
func TestS3MissingBucket(t *testing.T) {
	ctx := context.Background()
	s, err := blob.NewS3(blob.S3Config{Endpoint: MustFakeS3(t), Bucket: "absent", AccessKey: testAccessKey, SecretKey: testSecretKey, Region: "us-east-1"})
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	_, _, err = s.Get(ctx, "files/1")
	if code := parley.ErrorCode(err); code != parley.EINTERNAL {
		t.Errorf("Get: code %q (%v), want %s", code, err, parley.EINTERNAL)
	}
	if code := parley.ErrorCode(s.Put(ctx, "files/1", strings.NewReader("x"), 1, "text/plain")); code != parley.EINTERNAL {
		t.Errorf("Put: code %q, want %s", code, parley.EINTERNAL)
	}
}

func TestNewS3Config(t *testing.T) {
	for _, cfg := range []blob.S3Config{
		{Bucket: "parley"},
		{Endpoint: "127.0.0.1:9000"},
	} {
		if _, err := blob.NewS3(cfg); err == nil {
			t.Errorf("NewS3(%+v) succeeded", cfg)
		}
	}
}

// TestS3MultipartSizeMismatch covers objects above minio-go's 16 MiB part
// size, which it uploads in parts: a reader that runs over or ends early
// must abort the upload rather than complete it. (A multipart round trip is
// not checked here: gofakes3 stores the chunk signatures of a part sent
// over plain HTTP as data, which real S3 servers do not.)
func TestS3MultipartSizeMismatch(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 34 MiB")
	}
	ctx := context.Background()
	s, _ := MustS3(t, "")
	data := make([]byte, 17<<20)
	rand.Read(data)
	for _, size := range []int64{int64(len(data)) - 1, int64(len(data)) + 1} {
		err := s.Put(ctx, "files/big", bytes.NewReader(data), size, "application/octet-stream")
		blobtest.WantCode(t, err, parley.EINVALID)
		_, _, err = s.Get(ctx, "files/big")
		blobtest.WantCode(t, err, parley.ENOTFOUND)
	}
}
