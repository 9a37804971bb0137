package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/parley-chat/parley"
)

// S3Config says where an S3 store keeps its files.
type S3Config struct {
	Endpoint  string // host:port, without a scheme
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string // empty lets the client discover it
	UseSSL    bool
	// Prefix is prepended as is to every key, so several installations can
	// share a bucket: "parley/" stores key "files/1" as "parley/files/1".
	Prefix string
	// CreateBucket makes NewS3 create the bucket if it does not exist.
	CreateBucket bool
}

// S3 stores files as objects in an S3-compatible bucket. Every node of a
// cluster can read what any node wrote.
type S3 struct {
	client *minio.Client
	core   minio.Core // for a GET that returns the response's headers
	bucket string
	prefix string
}

// bucketTimeout bounds the bucket check in NewS3, which has no context of
// its own: a server starting against an unreachable endpoint should fail,
// not hang.
const bucketTimeout = 30 * time.Second

// NewS3 returns an S3 store. It contacts the endpoint only when
// cfg.CreateBucket is set; otherwise a wrong endpoint, bucket or key shows
// up as an EINTERNAL error on first use.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("blob: s3 endpoint is empty")
	}
	if cfg.Bucket == "" {
		return nil, errors.New("blob: s3 bucket is empty")
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseSSL,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3: %w", err)
	}
	s := &S3{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket, prefix: cfg.Prefix}
	if cfg.CreateBucket {
		ctx, cancel := context.WithTimeout(context.Background(), bucketTimeout)
		defer cancel()
		if err := s.createBucket(ctx, cfg.Region); err != nil {
			return nil, fmt.Errorf("blob: s3 bucket %s: %w", cfg.Bucket, err)
		}
	}
	return s, nil
}

func (s *S3) createBucket(ctx context.Context, region string) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil || exists {
		return err
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err == nil {
		return nil
	}
	// Another node starting at the same time may have created it first.
	if exists, _ := s.client.BucketExists(ctx, s.bucket); exists {
		return nil
	}
	return err
}

// Put uploads size bytes from r as the object for key, declaring exactly
// size bytes to S3, which makes an object visible only once all of it has
// arrived (objects over 16 MiB go up in parts, committed at the end). Returns
// EINVALID for a bad key, content type or size, or when r yields fewer or
// more than size bytes; the upload is then abandoned before its last byte,
// so the earlier object, if any, remains. Uploads are not retried, since r
// cannot be rewound.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := checkSize(size); err != nil {
		return err
	}
	ct, err := cleanContentType(contentType)
	if err != nil {
		return err
	}
	er := newExactReader(r, size)
	opts := minio.PutObjectOptions{ContentType: ct}
	if size == 0 {
		// The client sends an empty body without reading r at all.
		if err := er.finish(); err != nil {
			return fmt.Errorf("blob: put %s: %w", key, err)
		}
		// Over plain HTTP minio-go signs bodies in chunks, and an empty
		// chunked body goes out without a Content-Length, which servers
		// refuse (MissingContentLength); an empty body needs no signed
		// chunks.
		opts.DisableContentSha256 = true
	}
	_, err = s.client.PutObject(ctx, s.bucket, s.prefix+key, er, size, opts)
	if er.err != nil {
		// The client's error only says the body broke off; say why.
		return fmt.Errorf("blob: put %s: %w", key, er.err)
	}
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

// Get opens the object for key. It makes one GET request and takes the
// size and type from that response, so the info always describes the bytes
// read, and a missing key is ENOTFOUND from Get itself, not from the first
// Read. (minio-go's Object.Stat would send a HEAD first, whose bodiless 404
// cannot tell a missing key from a missing bucket.) The reader reads with
// ctx: cancelling ctx ends the download. Returns EINVALID for a bad key.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, parley.BlobInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, parley.BlobInfo{}, err
	}
	body, oi, _, err := s.core.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, parley.BlobInfo{}, s.getError(key, err)
	}
	return body, parley.BlobInfo{
		Size:        oi.Size,
		ContentType: oi.ContentType,
		ModTime:     oi.LastModified.UTC(),
	}, nil
}

// getError maps only a missing object to ENOTFOUND: a missing bucket is a
// misconfiguration and must not look like a missing file.
func (s *S3) getError(key string, err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return notFound(key)
	}
	return fmt.Errorf("blob: get %s: %w", key, err)
}

// Delete removes the object for key; a missing key is not an error.
// Returns EINVALID for a bad key.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

var _ parley.Blobs = (*S3)(nil)
