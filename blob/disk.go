package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/parley-chat/parley"
)

// Disk stores files in a directory, one file per key at the key's path.
//
// Each file begins with a one-line header holding the content type, followed
// by the bytes. Keeping the type inside the file means a single rename
// publishes bytes and type together: a reader racing an overwrite, or a
// crash between two renames, can never pair new bytes with an old type.
//
// Because keys are paths, a key cannot also be a directory of other keys:
// with "a/b" stored, Put("a") returns ECONFLICT and Get("a") ENOTFOUND. S3
// has no such limit; services choose keys ("files/<id>") that never clash.
type Disk struct {
	// root confines every file operation to the directory, following
	// symbolic links only while they stay inside it. It is the second line
	// of defence against path traversal, behind checkKey.
	root *os.Root
}

// tmpDir holds files being written. Its name begins with a dot, which no key
// segment may, so it is never mistaken for a key. Renaming from it into
// place is atomic as long as the directory is one file system.
const tmpDir = ".tmp"

// staleTemp is the age after which NewDisk removes a temporary file: one left
// by a crash, not one another process is still writing.
const staleTemp = 24 * time.Hour

// header starts every stored file; the content type and a newline follow.
// The version lets a later format coexist with files written by this one.
const header = "parley-blob 1 "

const maxHeaderLen = len(header) + maxContentTypeLen + 1

// Permissions keep uploaded files private to the server's user.
const (
	dirPerm  = 0o700
	filePerm = 0o600
)

// NewDisk returns a Disk storing files under dir, creating dir if needed and
// removing temporary files left by a crash. Call Close when done.
func NewDisk(dir string) (*Disk, error) {
	if dir == "" {
		return nil, errors.New("blob: disk directory is empty")
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	d := &Disk{root: root}
	if err := d.init(); err != nil {
		root.Close()
		return nil, fmt.Errorf("blob: %s: %w", dir, err)
	}
	return d, nil
}

func (d *Disk) init() error {
	if err := d.root.Mkdir(tmpDir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	entries, err := fs.ReadDir(d.root.FS(), tmpDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || time.Since(fi.ModTime()) < staleTemp {
			continue
		}
		if err := d.root.Remove(path.Join(tmpDir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Close releases the directory. Calls made after Close fail.
func (d *Disk) Close() error {
	return d.root.Close()
}

// Put stores size bytes from r under key. The bytes go to a temporary file
// that is synced and then renamed over key, so readers see the old file or
// the new one and a crash leaves one of them. Returns EINVALID for a bad key,
// content type or size, or when r yields fewer or more than size bytes, and
// ECONFLICT when key or one of its parents is a directory or a file that
// another key needs; in all these cases the earlier file, if any, remains.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (err error) {
	ct, err := d.checkPut(key, size, contentType)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	tmp := path.Join(tmpDir, "put-"+rand.Text())
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			d.root.Remove(tmp)
		}
	}()

	if _, err := io.WriteString(f, header+ct+"\n"); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if _, err := io.Copy(f, newExactReader(ctxReader{ctx, r}, size)); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}

	dir := path.Dir(key)
	if err := d.mkdirs(dir); err != nil {
		return d.putError(key, err)
	}
	if err := d.root.Rename(tmp, key); err != nil {
		return d.putError(key, err)
	}
	// The rename is durable only once the directory holding it is synced.
	if err := d.syncDir(dir); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

func (d *Disk) checkPut(key string, size int64, contentType string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if err := checkSize(size); err != nil {
		return "", err
	}
	return cleanContentType(contentType)
}

// mkdirs creates dir and its missing parents, syncing the parent of each
// new directory so the path survives a crash along with the file in it.
func (d *Disk) mkdirs(dir string) error {
	if fi, err := d.root.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	p := ""
	for seg := range strings.SplitSeq(dir, "/") {
		parent := p
		p = path.Join(p, seg)
		err := d.root.Mkdir(p, dirPerm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := d.syncDir(path.Join(".", parent)); err != nil {
			return err
		}
	}
	return nil
}

// putError reports ECONFLICT when the rename or mkdir failed because the
// key's path is taken by a directory or crosses a file, and the raw error
// otherwise.
func (d *Disk) putError(key string, err error) error {
	if fi, serr := d.root.Lstat(key); serr == nil && fi.IsDir() {
		return parley.Errorf(parley.ECONFLICT, "key %q is a prefix of other keys", key)
	}
	for p := path.Dir(key); p != "."; p = path.Dir(p) {
		if fi, serr := d.root.Lstat(p); serr == nil && !fi.IsDir() {
			return parley.Errorf(parley.ECONFLICT, "key %q is inside key %q", key, p)
		}
	}
	return fmt.Errorf("blob: put %s: %w", key, err)
}

func (d *Disk) syncDir(dir string) error {
	f, err := d.root.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Get opens the file at key. The reader also implements io.Seeker and
// io.ReaderAt over the stored bytes, and stays valid after an overwrite or
// Delete of key. Returns ENOTFOUND if there is no file at key and EINVALID
// for a bad key.
func (d *Disk) Get(ctx context.Context, key string) (io.ReadCloser, parley.BlobInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, parley.BlobInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, parley.BlobInfo{}, err
	}
	f, err := d.root.Open(key)
	if isNotExist(err) {
		return nil, parley.BlobInfo{}, notFound(key)
	}
	if err != nil {
		return nil, parley.BlobInfo{}, fmt.Errorf("blob: get %s: %w", key, err)
	}
	rc, info, err := readHeader(f)
	if err != nil {
		f.Close()
		if errors.Is(err, errNotFile) {
			return nil, parley.BlobInfo{}, notFound(key)
		}
		return nil, parley.BlobInfo{}, fmt.Errorf("blob: get %s: %w", key, err)
	}
	return rc, info, nil
}

var errNotFile = errors.New("not a regular file")

// readHeader parses the header of an open blob file and returns a reader
// positioned over its bytes.
func readHeader(f *os.File) (*diskReader, parley.BlobInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, parley.BlobInfo{}, err
	}
	if !fi.Mode().IsRegular() {
		return nil, parley.BlobInfo{}, errNotFile
	}
	buf := make([]byte, maxHeaderLen)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return nil, parley.BlobInfo{}, err
	}
	line, _, ok := bytes.Cut(buf[:n], []byte("\n"))
	if !ok || !bytes.HasPrefix(line, []byte(header)) {
		return nil, parley.BlobInfo{}, errors.New("file has no blob header")
	}
	off := int64(len(line) + 1)
	info := parley.BlobInfo{
		Size:        fi.Size() - off,
		ContentType: string(line[len(header):]),
		ModTime:     fi.ModTime().UTC(),
	}
	return &diskReader{SectionReader: io.NewSectionReader(f, off, info.Size), f: f}, info, nil
}

// diskReader reads the bytes after the header and closes the file.
type diskReader struct {
	*io.SectionReader
	f *os.File
}

func (r *diskReader) Close() error {
	return r.f.Close()
}

// Delete removes the file at key. A missing key, or a key that is only a
// directory of other keys, is not an error. Returns EINVALID for a bad key.
func (d *Disk) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := d.root.Lstat(key)
	if isNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	if fi.IsDir() {
		return nil
	}
	if err := d.root.Remove(key); err != nil && !isNotExist(err) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	// Empty parent directories are left in place: removing them would race
	// with a Put creating a file in them.
	if err := d.syncDir(path.Dir(key)); err != nil {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// isNotExist reports whether err means nothing is at the path, including
// ENOTDIR, which is what a key below an existing file gets.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func notFound(key string) error {
	return parley.Errorf(parley.ENOTFOUND, "no file at key %q", key)
}

var _ parley.Blobs = (*Disk)(nil)
