package blob_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/blob/blobtest"
)

// MustDisk opens a Disk in dir and closes it when the test ends.
func MustDisk(tb testing.TB, dir string) *blob.Disk {
	tb.Helper()
	d, err := blob.NewDisk(dir)
	if err != nil {
		tb.Fatalf("NewDisk: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

func TestDisk(t *testing.T) {
	dir := t.TempDir()
	blobtest.Run(t, MustDisk(t, dir))

	// Every failed Put above must have removed its temporary file.
	if left := filesUnder(t, filepath.Join(dir, ".tmp")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestDiskPathTraversal checks that no key, and no symbolic link planted in
// the directory, lets Disk touch a file outside it.
func TestDiskPathTraversal(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	if err := os.Mkdir(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("parley-blob 1 text/plain\nsecret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "blobs")
	d := MustDisk(t, dir)

	for _, key := range []string{"../outside/secret", "../escape", "a/../../escape", "/" + filepath.ToSlash(filepath.Join(base, "escape")), "..", "a/b/../../../escape"} {
		blobtest.WantCode(t, d.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"), parley.EINVALID)
		_, _, err := d.Get(ctx, key)
		blobtest.WantCode(t, err, parley.EINVALID)
		blobtest.WantCode(t, d.Delete(ctx, key), parley.EINVALID)
	}
	if _, err := os.Stat(filepath.Join(base, "escape")); !os.IsNotExist(err) {
		t.Errorf("a file escaped the store: stat = %v", err)
	}

	// Links to outside the directory, absolute and relative, are not
	// followed: the store refuses rather than reading or writing through.
	if err := os.Symlink(outside, filepath.Join(dir, "abs")); err != nil {
		t.Skipf("cannot make symbolic links: %v", err)
	}
	if err := os.Symlink("../outside", filepath.Join(dir, "rel")); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{"abs", "rel"} {
		if err := d.Put(ctx, link+"/planted", strings.NewReader("x"), 1, "text/plain"); err == nil {
			t.Errorf("Put through link %s succeeded", link)
		}
		if rc, _, err := d.Get(ctx, link+"/secret"); err == nil {
			rc.Close()
			t.Errorf("Get through link %s read a file outside the store", link)
		}
		if err := d.Delete(ctx, link+"/secret"); err == nil {
			if _, serr := os.Stat(secret); serr != nil {
				t.Errorf("Delete through link %s removed a file outside the store", link)
			}
		}
	}
	if left := filesUnder(t, outside); len(left) != 1 || left[0] != "secret" {
		t.Errorf("files outside the store = %v, want only [secret]", left)
	}
}

// TestDiskKeyConflict checks the one way Disk differs from S3: a key cannot
// be both a file and a directory of other keys.
func TestDiskKeyConflict(t *testing.T) {
	ctx := context.Background()
	d := MustDisk(t, t.TempDir())
	blobtest.MustPut(t, d, "a", []byte("file a"), "text/plain")
	blobtest.MustPut(t, d, "d/child", []byte("child"), "text/plain")

	blobtest.WantCode(t, d.Put(ctx, "a/b", strings.NewReader("x"), 1, "text/plain"), parley.ECONFLICT)
	blobtest.WantCode(t, d.Put(ctx, "a/b/c", strings.NewReader("x"), 1, "text/plain"), parley.ECONFLICT)
	blobtest.WantCode(t, d.Put(ctx, "d", strings.NewReader("x"), 1, "text/plain"), parley.ECONFLICT)

	_, _, err := d.Get(ctx, "a/b")
	blobtest.WantCode(t, err, parley.ENOTFOUND)
	if err := d.Delete(ctx, "a/b"); err != nil {
		t.Errorf("Delete(a/b): %v", err)
	}
	if got, _ := blobtest.MustGet(t, d, "a"); string(got) != "file a" {
		t.Errorf("a = %q, want %q", got, "file a")
	}
	if got, _ := blobtest.MustGet(t, d, "d/child"); string(got) != "child" {
		t.Errorf("d/child = %q, want %q", got, "child")
	}
}

func TestDiskReopen(t *testing.T) {
	dir := t.TempDir()
	d := MustDisk(t, dir)
	blobtest.MustPut(t, d, "files/kept", []byte("still here"), "text/plain")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	got, info := blobtest.MustGet(t, MustDisk(t, dir), "files/kept")
	if string(got) != "still here" || info.ContentType != "text/plain" {
		t.Errorf("after reopening, Get = %q (%s), want %q (text/plain)", got, info.ContentType, "still here")
	}
}

func TestDiskRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	MustDisk(t, dir)
	tmp := filepath.Join(dir, ".tmp")
	for _, name := range []string{"put-stale", "put-fresh"} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(filepath.Join(tmp, "put-stale"), old, old); err != nil {
		t.Fatal(err)
	}
	MustDisk(t, dir)
	if left := filesUnder(t, tmp); len(left) != 1 || left[0] != "put-fresh" {
		t.Errorf("temporary files after reopening = %v, want [put-fresh]: a fresh one may be another process's upload", left)
	}
}

func TestDiskForeignFile(t *testing.T) {
	dir := t.TempDir()
	d := MustDisk(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "foreign"), []byte("no header here"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := d.Get(context.Background(), "foreign")
	if code := parley.ErrorCode(err); code != parley.EINTERNAL {
		t.Errorf("Get of a file without a header: code %q (%v), want %s", code, err, parley.EINTERNAL)
	}
}

func TestNewDiskEmptyDir(t *testing.T) {
	if _, err := blob.NewDisk(""); err == nil {
		t.Error(`NewDisk("") succeeded`)
	}
}

// filesUnder lists the regular files below dir, relative to it.
func filesUnder(tb testing.TB, dir string) []string {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}
