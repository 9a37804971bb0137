package backup_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/backup"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestRoundTrip backs up a seeded history from each dialect and restores
// it into each: every row of every table comes back as it was (booleans
// compared as 0 and 1), and the ids continue after the restored ones.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	opt := sqlstore.SeedOptions{Messages: 1500, Users: 30, Conversations: 20, UserConversations: 8, Months: 2}
	sources := map[string]string{
		"sqlite":   "sqlite:" + filepath.Join(t.TempDir(), "parley.db"),
		"postgres": sqltest.PostgresURL(t),
	}
	for name, dsn := range sources {
		if _, err := sqlstore.SeedHistory(ctx, dsn, opt, nil); err != nil {
			t.Fatalf("seeding %s: %v", name, err)
		}
	}
	for _, from := range []string{"sqlite", "postgres"} {
		var archive bytes.Buffer
		files := disk(t)
		m, err := backup.Write(ctx, &archive, sources[from], files)
		if err != nil {
			t.Fatalf("backup of %s: %v", from, err)
		}
		if m.Dialect != from || m.SchemaVersion == 0 || m.Rows() == 0 {
			t.Fatalf("backup of %s: manifest %+v", from, m.Header)
		}
		t.Logf("%s: %d rows in %d tables, %d bytes", from, m.Rows(), len(m.Tables), archive.Len())
		want := dump(t, sources[from])
		for _, to := range []string{"sqlite", "postgres"} {
			t.Run(from+"-to-"+to, func(t *testing.T) {
				dsn := "sqlite:" + filepath.Join(t.TempDir(), "parley.db")
				if to == "postgres" {
					dsn = sqltest.PostgresURL(t)
				}
				got, err := backup.Restore(ctx, bytes.NewReader(archive.Bytes()), backup.RestoreOptions{DSN: dsn,
					Blobs: func() (parley.Blobs, error) { return disk(t), nil }})
				if err != nil {
					t.Fatalf("restore: %v", err)
				}
				if got.Rows() != m.Rows() {
					t.Errorf("restored %d rows, backed up %d", got.Rows(), m.Rows())
				}
				have := dump(t, dsn)
				for table, rows := range want {
					if !reflect.DeepEqual(have[table], rows) {
						t.Errorf("table %s: %d rows restored differ from the %d backed up", table, len(have[table]), len(rows))
					}
				}
				// Ids go on after the restored ones, also where the
				// newest rows were deleted (events pruned, on SQLite a
				// counter of its own).
				for _, table := range []string{"messages", "events", "users"} {
					if next := nextID(t, dsn, table); next <= m.Sequences[table] {
						t.Errorf("the next id of %s is %d, not after the restored %d", table, next, m.Sequences[table])
					}
				}

				// A second restore is refused.
				_, err = backup.Restore(ctx, bytes.NewReader(archive.Bytes()), backup.RestoreOptions{DSN: dsn,
					Blobs: func() (parley.Blobs, error) { t.Fatal("opened the storage of a full target"); return nil, nil }})
				if !errors.Is(err, backup.ErrNotEmpty) {
					t.Errorf("restoring twice: %v, want ErrNotEmpty", err)
				}
			})
		}
	}
}

// nextID returns the id the next row of table gets (and uses it up).
func nextID(t *testing.T, dsn, table string) int64 {
	t.Helper()
	driver, name, query := "pgx", dsn, "SELECT nextval(pg_get_serial_sequence('"+table+"', 'id'))"
	if strings.HasPrefix(dsn, "sqlite:") {
		driver, name = "sqlite", strings.TrimPrefix(dsn, "sqlite:")
		query = "SELECT MAX(COALESCE((SELECT MAX(id) FROM " + table + "), 0), COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '" + table + "'), 0)) + 1"
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id int64
	if err := db.QueryRow(query).Scan(&id); err != nil {
		t.Fatalf("next id of %s: %v", table, err)
	}
	return id
}

func disk(t *testing.T) parley.Blobs {
	d, err := blob.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// dump reads every table of a database as JSON rows, booleans as 0 and 1.
func dump(t *testing.T, dsn string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	snap, err := sqlstore.OpenSnapshot(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	out := map[string][]string{}
	for _, table := range snap.Tables() {
		err := snap.Rows(ctx, table, func(row []any) error {
			norm := make([]any, len(row))
			for i, v := range row {
				switch x := v.(type) {
				case bool:
					norm[i] = 0
					if x {
						norm[i] = 1
					}
				case []byte:
					norm[i] = string(x)
				default:
					norm[i] = x
				}
			}
			b, err := json.Marshal(norm)
			out[table.Name] = append(out[table.Name], string(b))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestStreaming backs up a 64 MiB file and restores it through a pipe at
// once: the restore stores the file's bytes while the backup still reads
// them, so neither holds the file (or any large part of it) in memory.
// The measure is how far the bytes stored lag behind the bytes read, which
// a backup or restore that buffered the file would push to its size; the
// heap's growth is logged too, but the garbage the race detector leaves
// makes it too noisy to judge by.
func TestStreaming(t *testing.T) {
	ctx := context.Background()
	const size = 64 << 20
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO files (id, name, content_type, size, created_at) VALUES (7, 'big.bin', 'application/octet-stream', $1, 0)", size); err != nil {
		t.Fatal(err)
	}
	db.Close()

	dst := &generated{}
	src := &generated{size: size, dst: dst}
	peak := watchHeap(t)
	// The backup streams through a pipe into the restore.
	pr, pw := io.Pipe()
	go func() {
		m, err := backup.Write(ctx, pw, dsn, src)
		if err == nil && m.Files != 1 {
			err = fmt.Errorf("backed up %d files", m.Files)
		}
		pw.CloseWithError(err)
	}()
	if _, err := backup.Restore(ctx, pr, backup.RestoreOptions{DSN: "sqlite:" + filepath.Join(t.TempDir(), "parley.db"),
		Blobs: func() (parley.Blobs, error) { return dst, nil }}); err != nil {
		t.Fatal(err)
	}
	grew, lag := peak(), src.maxLag.Load()
	if dst.put.Load() != size || lag > 16<<20 {
		t.Errorf("%d bytes put; the bytes put lagged up to %d MiB behind the bytes read; want the %d MiB file, streamed",
			dst.put.Load(), lag>>20, size>>20)
	}
	t.Logf("backing up and restoring a %d MiB file: the bytes stored lagged at most %d KiB behind the bytes read; the heap grew by at most %d MiB",
		size>>20, lag>>10, grew>>20)
}

// watchHeap samples the heap until the returned function is called, which
// returns by how much it grew at most.
func watchHeap(t *testing.T) func() uint64 {
	// Collect garbage early (goose's parser, under the race detector,
	// leaves hundreds of MiB of it): what stays is what is held.
	old := debug.SetGCPercent(5)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	runtime.GC()
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := heap()
	var max uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			if h := heap(); h > base && h-base > max {
				max = h - base
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return max
	}
}

// generated is file storage with one file of size bytes, made as it is
// read, that counts the bytes put into it. A source given the storage its
// file is restored into (dst) records how far that storage's bytes lag
// behind its own.
type generated struct {
	size   int64
	dst    *generated
	read   atomic.Int64
	put    atomic.Int64
	maxLag atomic.Int64
}

func (g *generated) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	n, err := io.Copy(countingWriter{&g.put}, r)
	if err == nil && n != size {
		err = fmt.Errorf("put %d bytes of %d", n, size)
	}
	return err
}

func (g *generated) Get(ctx context.Context, key string) (io.ReadCloser, parley.BlobInfo, error) {
	if key != "files/7" {
		return nil, parley.BlobInfo{}, parley.Errorf(parley.ENOTFOUND, "no %s", key)
	}
	return io.NopCloser(io.LimitReader(sourceReader{g}, g.size)), parley.BlobInfo{Size: g.size, ContentType: "application/octet-stream"}, nil
}

func (g *generated) Delete(ctx context.Context, key string) error { return nil }

// sourceReader gives zeros and records the lag of the storage restored into.
type sourceReader struct{ g *generated }

func (r sourceReader) Read(p []byte) (int, error) {
	clear(p)
	read := r.g.read.Add(int64(len(p)))
	if r.g.dst != nil {
		if lag := read - int64(len(p)) - r.g.dst.put.Load(); lag > r.g.maxLag.Load() {
			r.g.maxLag.Store(lag)
		}
	}
	return len(p), nil
}

type countingWriter struct{ n *atomic.Int64 }

func (w countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}
